import CoordinatorCore
import Foundation
import Hummingbird
import HTTPTypes
import NIOCore

/// The request context of the coordinator's routes: Hummingbird's basics and the address of the
/// connection's peer.
public struct CoordinatorRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.remoteAddress = source.channel.remoteAddress
    }
}

/// Where a request came from: the peer's IP address, or, when the peer is a trusted reverse proxy,
/// the last address it put in `X-Forwarded-For` (the one it saw; earlier entries are whatever the
/// client claimed). Replicas of a unit go to different ``network``s.
struct ClientAddress: Equatable, CustomStringConvertible {
    /// The address as text (IPv4 dotted, IPv6 as NIO prints it).
    let ip: String
    /// The /24 of an IPv4 address or the /48 of an IPv6 one (an IPv4-mapped IPv6 address counts as
    /// IPv4): machines of one person, one household or one cloud subnet share it.
    let network: String
    /// A loopback address: a coordinator and its workers on one machine (tests, demonstrations),
    /// exempt from the one-network-per-unit rule unless configured otherwise.
    let isLoopback: Bool

    var description: String { ip }

    init?(ip text: String) {
        let text = text.trimmingCharacters(in: .whitespaces)
        guard let address = try? SocketAddress(ipAddress: text, port: 0) else { return nil }
        self.init(address)
    }

    init?(_ address: SocketAddress) {
        switch address {
        case .v4:
            guard let ip = address.ipAddress else { return nil }
            let octets = ip.split(separator: ".")
            guard octets.count == 4 else { return nil }
            self.ip = ip
            network = "v4:" + octets.prefix(3).joined(separator: ".")
            isLoopback = octets[0] == "127"
        case .v6(let v6):
            var bytes = [UInt8](repeating: 0, count: 16)
            withUnsafeBytes(of: v6.address.sin6_addr) { raw in for i in 0..<16 { bytes[i] = raw[i] } }
            if bytes[0..<10].allSatisfy({ $0 == 0 }) && bytes[10] == 0xff && bytes[11] == 0xff {
                // IPv4-mapped.
                ip = bytes[12..<16].map(String.init).joined(separator: ".")
                network = "v4:" + bytes[12..<15].map(String.init).joined(separator: ".")
                isLoopback = bytes[12] == 127
            } else {
                ip = address.ipAddress ?? "?"
                network = "v6:" + stride(from: 0, to: 6, by: 2).map { String(format: "%02x%02x", bytes[$0], bytes[$0 + 1]) }
                    .joined(separator: ":")
                isLoopback = bytes[0..<15].allSatisfy { $0 == 0 } && bytes[15] == 1
            }
        default:
            return nil
        }
    }

    /// The client of `request` on a connection from `peer`: the peer itself, or, when the peer is
    /// one of `trustedProxies`, the last `X-Forwarded-For` entry (the peer when the header is
    /// absent or unreadable).
    static func of(_ request: Request, peer: SocketAddress?, trustedProxies: Set<String>) -> ClientAddress? {
        guard let peer, let direct = ClientAddress(peer) else { return nil }
        guard trustedProxies.contains(direct.ip),
            let header = request.headers[HTTPField.Name("X-Forwarded-For")!],
            let last = header.split(separator: ",").last,
            let forwarded = ClientAddress(ip: String(last))
        else { return direct }
        return forwarded
    }
}

extension Coordinator {
    /// The client of a request, as ``ClientAddress/of(_:peer:trustedProxies:)`` resolves it.
    func client(_ request: Request, _ context: CoordinatorRequestContext) -> ClientAddress? {
        ClientAddress.of(request, peer: context.remoteAddress, trustedProxies: Set(configuration.trustedProxies))
    }

    /// The network a replica handed to `client` is recorded under, or nil when the rule does not
    /// apply (turned off, an unknown address, or loopback unless configured).
    func replicaNetwork(of client: ClientAddress?) -> String? {
        guard configuration.distinctReplicaNetworks, let client else { return nil }
        if client.isLoopback && !configuration.loopbackIsRemote { return nil }
        return client.network
    }

    /// Takes one signup or registration from the client's address (loopback only when configured
    /// as remote); 429 when it has used its budget.
    func limitRegistrations(from client: ClientAddress?) throws {
        guard let client, !client.isLoopback || configuration.loopbackIsRemote,
            let wait = registrationLimiter.take("address " + client.ip)
        else { return }
        metrics.rateLimited.increment()
        var error = APIError(
            .tooManyRequests, "rate_limited",
            String(format: "too many signups or host registrations from %@: try again in %.0f s", client.ip, wait.rounded(.up)))
        error.retryAfter = wait
        throw error
    }
}
