import XunxingClient
import XunxingHTTPClient

/// Coordinator clients authenticated as the attached host.
enum XunxingClientFactory {
    static func client(host: HostIdentity, http: HTTPClientConfiguration) -> CoordinatorClient {
        CoordinatorClient(baseURL: host.coordinatorURL, secret: host.hostKey, http: HTTPClient(configuration: http))
    }
}
