import Testing
@testable import FilamentWire
