import CoordinatorCore
import CoordinatorService
import CoordinatorStore
import CoordinatorTestSupport
import Foundation
import Testing
import XunxingClient
import XunxingSupport

/// Loads a page in headless Chromium (Debian's `chromium`), returning the rendered DOM and
/// every console message the page produced (the pages have no scripts, so any message — a CSP
/// violation, a failed load — is a fault).
func renderInBrowser(_ url: String, screenshot: String? = nil) async throws -> (dom: String, console: [String]) {
    var arguments = ["--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--enable-logging=stderr", "--v=0",
                     "--user-data-dir=" + FileManager.default.temporaryDirectory.appendingPathComponent("chromium-\(UUID().uuidString)").path]
    if let screenshot { arguments += ["--screenshot=" + screenshot, "--window-size=1000,1400"] } else { arguments.append("--dump-dom") }
    let run = try await Subprocess.output("/usr/bin/chromium", arguments + [url])
    let console = run.stderr.split(separator: "\n").filter { $0.contains(":CONSOLE") }.map(String.init)
    guard run.status == 0 else { throw FixtureError.timeout("chromium exited \(run.status) on \(url)") }
    return (run.stdout, console)
}

@Suite("Web pages in a real browser", .serialized)
struct WebPagesTests {
    @Test("every page renders in headless Chromium with no console errors, plots included")
    func pagesRender() async throws {
        try await CoordinatorFixture.with({ $0.trustThreshold = 1_000_000 }) { f in
            let astronomer = try await f.astronomer()
            let dataset = try await f.submitAndSplit(try f.simulatedObservation(), astronomer: astronomer)
            let a = try await f.host(name: "Ann <script>alert(1)</script>")
            let b = try await f.host(name: "Bob")
            async let ra = a.work()
            async let rb = b.work()
            _ = try await (ra, rb)
            try await f.waitUntil(timeout: 30, "complete") { try await onThread { try astronomer.dataset(dataset.id).state } == "complete" }
            _ = try await onThread { try astronomer.publish(dataset.id) }
            let volunteer = try await f.coordinator.store.transaction { try await $0.host(id: a.hostID)!.accountId }
            let pages: [(path: String, mustContain: [String])] = [
                ("/", ["Searching the sky for pulsars", "charity hours", "active hosts"]),
                ("/datasets", ["Datasets", "sim"]),
                ("/datasets/\(dataset.id)", ["New candidates", "work units validated", "Interference", "id=\"rfi-channels\"", "Masked per channel",
                                               "Masked over time"]),
                ("/datasets/\(dataset.id)/candidates/0", ["<svg", "Folded profile", "Power spectrum", "Sigma against DM"]),
                ("/volunteers/\(volunteer)", ["charity hours", "Hosts", "&lt;script&gt;"]),
                ("/leaderboard", ["Leaderboard", "Bob"]),
            ]
            for page in pages {
                let (dom, console) = try await renderInBrowser(f.baseURL + page.path)
                #expect(console.isEmpty, "\(page.path): \(console)")
                #expect(dom.contains("<main>"), "\(page.path) did not render")
                #expect(!dom.contains("<script>alert"), "\(page.path) let markup through")
                for text in page.mustContain { #expect(dom.contains(text), "\(page.path) lacks \(text)") }
            }
            let candidatePage = (try await renderInBrowser(f.baseURL + "/datasets/\(dataset.id)/candidates/0")).dom
            #expect(candidatePage.contains("123.39") || candidatePage.contains("123.40"), "the 123.4 ms pulsar is not candidate 1")
            let svgCount = (try await renderInBrowser(f.baseURL + "/datasets/\(dataset.id)/candidates/0")).dom
                .components(separatedBy: "<svg").count - 1
            // Profile, spectrum and DM curve, and the six fold-diagnostics panels of a diagnosed candidate.
            #expect(svgCount == 3 + 6)
            // The dataset's page: the mask per channel (32 bars) and over time, drawn by the browser.
            let datasetPage = (try await renderInBrowser(f.baseURL + "/datasets/\(dataset.id)")).dom
            #expect(datasetPage.components(separatedBy: "<svg").count - 1 == 2)
            let channelFigure = datasetPage.components(separatedBy: "id=\"rfi-channels\"").dropFirst().first?.components(separatedBy: "</figure>").first ?? ""
            #expect(channelFigure.components(separatedBy: "<rect").count - 1 == 32 + 1, "a bar per channel and the frame")
            if let shot = ProcessInfo.processInfo.environment["XUNXING_SCREENSHOT"] {
                _ = try await renderInBrowser(f.baseURL + "/datasets/\(dataset.id)/candidates/0", screenshot: shot)
            }
        }
    }
}
