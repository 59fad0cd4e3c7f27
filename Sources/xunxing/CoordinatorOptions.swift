import ArgumentParser
import Foundation
import XunxingClient

/// Where the coordinator is and who is asking; each falls back to an environment variable.
struct CoordinatorOptions: ParsableArguments {
    @Option(help: "Coordinator URL, e.g. http://localhost:8080 (default: $XUNXING_COORDINATOR).")
    var coordinator: String?

    @Option(help: "API token or account key (default: $XUNXING_TOKEN).")
    var token: String?

    init() {}

    init(coordinator: String?, token: String?) {
        self.coordinator = coordinator
        self.token = token
    }

    func client(requireToken: Bool = true) throws -> CoordinatorClient {
        let environment = ProcessInfo.processInfo.environment
        guard let url = coordinator ?? environment["XUNXING_COORDINATOR"], !url.isEmpty else {
            throw ValidationError("no coordinator: pass --coordinator URL or set XUNXING_COORDINATOR")
        }
        let secret = token ?? environment["XUNXING_TOKEN"]
        if requireToken && (secret ?? "").isEmpty {
            throw ValidationError("no credentials: pass --token (or set XUNXING_TOKEN)")
        }
        return CoordinatorClient(baseURL: url, secret: secret)
    }
}

/// Prints JSON with sorted keys, indented.
func printJSON<T: Encodable>(_ value: T) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    encoder.dateEncodingStrategy = .iso8601
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}
