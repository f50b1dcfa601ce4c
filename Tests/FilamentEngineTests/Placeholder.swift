import Testing
@testable import FilamentEngine
