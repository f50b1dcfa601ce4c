import Testing
@testable import FilamentCrypto
