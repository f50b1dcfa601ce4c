import Testing
@testable import FilamentState
