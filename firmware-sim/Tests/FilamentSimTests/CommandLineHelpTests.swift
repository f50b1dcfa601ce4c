import Testing
@testable import filament_sim

@Suite struct CommandLineHelpTests {
    /// The top-level help of filament-sim is exactly what docs/simulator.md describes (byte for byte at
    /// 80 columns), so a renamed subcommand or a changed abstract fails here.
    @Test func topLevelHelpIsExact() {
        let expected = """
            OVERVIEW: Simulates a mesh of bulbs running the Filament engine in virtual time.

            USAGE: filament-sim <subcommand>

            OPTIONS:
              -h, --help              Show help information.

            SUBCOMMANDS:
              run                     Runs a scenario file.
              city                    Builds a city of bulbs with gateways and runs it.

              See 'filament-sim help <subcommand>' for detailed help.
            """
        #expect(FilamentSimCommand.helpMessage(columns: 80) == expected)
    }
}
