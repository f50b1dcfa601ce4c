/// The engines a run can use, by name: `filament` is `FilamentEngine.RoutingEngine` (the product),
/// `reference` the simulator's own small distance-vector engine (used to test the simulator itself).
public enum EngineRegistry {
    public static let defaultEngine = "filament"
    public static var names: [String] { ["filament", "reference"] }
    public static func factory(named name: String) -> EngineFactory? {
        switch name {
        case "filament": return { filamentEngine($0) }
        case "reference": return { ReferenceEngine($0) }
        default: return nil
        }
    }
}
