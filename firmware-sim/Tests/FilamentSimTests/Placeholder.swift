import Testing
@testable import FilamentSim
