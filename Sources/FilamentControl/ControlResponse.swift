/// A response line: `{"version":1,"id":N,"ok":true,"result":...}` or `{"version":1,"id":N,"ok":false,"error":{...}}`.
public struct ControlResponse<Result: Codable & Sendable>: Codable, Sendable {
    public var version: Int
    public var id: Int
    public var ok: Bool
    public var result: Result?
    public var error: ControlError?

    public init(id: Int, result: Result) {
        version = controlProtocolVersion; self.id = id; ok = true; self.result = result; error = nil
    }
    public init(id: Int, error: ControlError) {
        version = controlProtocolVersion; self.id = id; ok = false; result = nil; self.error = error
    }
}

/// A result-less view of a response, to read `ok`/`error` before decoding the result type.
public struct ControlResponseHeader: Codable, Sendable {
    public var version: Int
    public var id: Int
    public var ok: Bool
    public var error: ControlError?
}

/// JSON encoding with sorted keys, so the same answer is the same bytes (JSONCoding: no Foundation,
/// the bytes Foundation's JSONEncoder wrote).
public enum ControlJSON {
    public static func encodeLine<T: Encodable>(_ value: T) throws -> [UInt8] {
        var d = try JSONCoding.encode(value)
        d.append(0x0A)
        return d
    }

    public static func pretty<T: Encodable>(_ value: T) throws -> String {
        String(decoding: try JSONCoding.encode(value, pretty: true), as: UTF8.self)
    }

    /// Decodes one request line; any problem is a `ControlError` to send back, never a crash.
    public static func decodeRequest(_ line: some Collection<UInt8>) -> Swift.Result<ControlRequest, ControlError> {
        guard let req = try? JSONCoding.decode(ControlRequest.self, from: line) else {
            return .failure(ControlError(code: "bad_request", message: "not a JSON request object with version, id, command and args"))
        }
        guard req.version == controlProtocolVersion else {
            return .failure(ControlError(code: "unsupported_version", message: "this daemon speaks control protocol version \(controlProtocolVersion), not \(req.version)"))
        }
        guard controlCommands[req.command] != nil else {
            return .failure(ControlError(code: "unknown_command", message: "unknown command '\(req.command)'"))
        }
        return .success(req)
    }
}
