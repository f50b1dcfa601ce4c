/// The engines a run can use, by name.
public enum EngineRegistry {
    public static let defaultEngine = "reference"
    public static var names: [String] { ["reference"] }
    public static func factory(named name: String) -> EngineFactory? {
        switch name {
        case "reference": return { ReferenceEngine($0) }
        default: return nil
        }
    }
}
