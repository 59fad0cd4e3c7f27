import CoordinatorCore
import CoordinatorService
import CoordinatorTestSupport
import Foundation
import Testing
import XunxingHTTPClient
import XunxingSupport

@Suite("OpenAPI document")
struct OpenAPITests {
    @Test("served at /api/v1/openapi.yaml and naming every route the coordinator answers")
    func everyRouteDocumented() async throws {
        try await CoordinatorFixture.with { f in
            let http = HTTPClient()
            let response = try await onThread { try http.send("GET", url: f.baseURL + "/api/v1/openapi.yaml") }
            #expect(response.status == 200)
            let spec = String(decoding: response.body, as: UTF8.self)
            #expect(spec.hasPrefix("openapi: 3"))
            let routes = [
                "/health", "/openapi.yaml", "/volunteers", "/hosts", "/datasets", "/datasets/{id}", "/datasets/{id}/candidates", "/datasets/{id}/single-pulse",
                "/work/request", "/replicas/{id}/ack", "/workunits/{id}/payload", "/replicas/{id}/result",
                "/hosts/me", "/volunteers/me", "/volunteers/me/platform", "/volunteers/{id}", "/volunteers/{id}/statement",
                "/leaderboard", "/admin/ledger", "/admin/ledger/{id}/reverse", "/stats/{file}",
                "/keys/rotate", "/replicas/{id}/abandon", "/hosts/{id}/revoke", "/admin/accounts/{id}/revoke", "/admin/stats/regenerate",
            ]
            for route in routes { #expect(spec.contains("\n  \(route):"), "\(route) is not documented") }
            // And every documented path is answered (not 404 for lack of a route).
            for route in routes {
                let path = f.baseURL + "/api/v1" + route.replacingOccurrences(of: "{id}", with: "x")
                let get = try await onThread { try http.send("GET", url: path) }
                let post = try await onThread { try http.send("POST", url: path, body: Data("{}".utf8)) }
                let put = try await onThread { try http.send("PUT", url: path, body: Data("{}".utf8)) }
                #expect(get.status != 404 || post.status != 404 || put.status != 404 || String(decoding: get.body, as: UTF8.self).contains("not_found"),
                        "\(route) has no handler")
            }
        }
    }
}
