import Testing
@testable import FilamentCore
