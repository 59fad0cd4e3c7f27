import CoordinatorCore
import CoordinatorStore
import Foundation
import Hummingbird
import PulsarSearch
import WorkUnits
import XunxingMarkup
import XunxingProtocol

extension Coordinator {
    /// The public web pages: home, datasets, candidates with plots, volunteer profiles, leaderboard.
    func addWebPages(to router: Router<CoordinatorRequestContext>) {
        router.get("/") { request, _ -> Response in try await self.cachedPage(request) {
            let s = try await self.store.read { try await $0.projectStats(now: Date().timeIntervalSince1970) }
            let recent = try await self.store.read { try await $0.publishedDatasets() }.suffix(5).reversed()
            var body = "<h1>Searching the sky for pulsars, together</h1><div class=\"cards\">"
            for (label, value) in [
                ("volunteers", "\(s.volunteers)"), ("hosts", "\(s.hosts)"), ("active hosts (24 h)", "\(s.activeHosts)"),
                ("charity hours", HTML.escape(HoursText.format(s.hoursTotal))), ("datasets", "\(s.datasets)"),
                ("work units validated", "\(s.unitsValidated)"), ("validated in the last 24 h", "\(s.unitsValidatedLastDay)"),
                ("candidates", "\(s.candidates)"),
            ] {
                body += "<div class=\"card\"><b>\(value)</b>\(HTML.escape(label))</div>"
            }
            body += "</div><h2>Recent datasets</h2>"
            var rows: [[String]] = []
            for d in recent { rows.append(try await self.datasetRow(d)) }
            body += HTML.table(["dataset", "state", "progress", "units"], rows)
            return HTML.document(title: "Home", body)
        } }

        router.get("datasets") { request, _ -> Response in try await self.cachedPage(request) {
            var rows: [[String]] = []
            for d in try await self.store.read({ try await $0.publishedDatasets() }).reversed() {
                rows.append(try await self.datasetRow(d))
            }
            return HTML.document(title: "Datasets", "<h1>Datasets</h1><p class=\"muted\">Datasets their astronomers have published.</p>"
                + HTML.table(["dataset", "state", "progress", "units"], rows))
        } }

        router.get("datasets/:id") { request, context -> Response in try await self.cachedPage(request) {
            let id = try context.parameters.require("id")
            // A private dataset answers as a missing one does: its name is not public either.
            guard let d = try await self.store.read({ try await $0.dataset(id: id) }), d.publishedAt != nil else {
                throw APIError.notFound("dataset \(id)")
            }
            let counts = try await self.store.read { try await $0.unitCounts(dataset: id) }
            let candidates = try await self.candidates(of: id)
            var body = "<h1>\(HTML.escape(d.name))</h1><p>State <b>\(HTML.escape(d.state.rawValue))</b> · preset \(HTML.escape(d.preset)) · \(d.dmTrials) DM trials · \(HTML.number(d.duration, 1)) s of data</p>"
            body += HTML.progress(counts.validated, of: counts.total)
            body += "<p>\(counts.validated) of \(counts.total) work units validated, \(counts.active) in progress, \(counts.error) in error.</p>"
            if let json = d.splitPlan, let plan = try? WireCoding.decoder().decode(DatasetSplitPlan.self, from: Data(json.utf8)) {
                body += Self.interferenceSection(plan)
            }
            body += Self.candidateSections(candidates, dataset: id)
            let decoder = WireCoding.decoder()
            let events = try await self.store.read { try await $0.singlePulseEventBodies(dataset: id) }
                .map { try decoder.decode(SinglePulseEvent.self, from: Data($0.utf8)) }
            if !events.isEmpty { body += Self.singlePulseSection(events) }
            return HTML.document(title: d.name, body)
        } }

        router.get("datasets/:id/candidates/:rank") { request, context -> Response in try await self.cachedPage(request) {
            let id = try context.parameters.require("id")
            let rank = try context.parameters.require("rank", as: Int.self)
            guard let d = try await self.store.read({ try await $0.dataset(id: id) }), d.publishedAt != nil,
                let json = try await self.store.read({ try await $0.candidateBody(dataset: id, rank: rank) })
            else { throw APIError.notFound("candidate \(rank) of dataset \(id)") }
            let c = try WireCoding.decoder().decode(Candidate.self, from: Data(json.utf8))
            return HTML.document(title: "Candidate \(rank + 1)", Self.candidatePage(c, rank: rank, dataset: d))
        } }

        router.get("volunteers/:id") { request, context -> Response in try await self.cachedPage(request) {
            let p = try await self.profile(of: try context.parameters.require("id"), full: false)
            var body = "<h1>\(HTML.escape(p.name))</h1><div class=\"cards\">"
            for (label, value) in [("charity hours", HTML.escape(HoursText.format(p.hoursTotal))), ("work units", "\(p.workUnits)"),
                                   ("datasets helped", "\(p.datasetsHelped)"), ("candidates", "\(p.candidates)")] {
                body += "<div class=\"card\"><b>\(value)</b>\(label)</div>"
            }
            body += "</div><h2>Hours by year</h2>"
            body += HTML.table(["year", "hours"], p.hoursByYear.sorted { $0.key < $1.key }.map { [HTML.escape($0.key), HTML.escape(HoursText.format($0.value))] }, numeric: [1])
            body += "<h2>Hosts</h2>"
            body += HTML.table(["host", "cores", "hours", "work units"], p.hosts.map {
                [HTML.escape($0.name), "\($0.cores)", HTML.escape(HoursText.format($0.hoursTotal)), "\($0.workUnits)"]
            }, numeric: [1, 2, 3])
            return HTML.document(title: p.name, body)
        } }

        router.get("leaderboard") { request, _ -> Response in try await self.cachedPage(request) {
            let rows = try await self.store.read { try await $0.leaderboard(limit: 100) }
            let table = HTML.table(["#", "volunteer", "charity hours", "work units"], rows.enumerated().map { i, v in
                ["\(i + 1)", HTML.link("/volunteers/\(v.accountId)", v.name), HTML.escape(HoursText.format(v.hoursTotal)), "\(v.workUnits)"]
            }, numeric: [0, 2, 3])
            return HTML.document(title: "Leaderboard", "<h1>Leaderboard</h1>" + table)
        } }
    }

    /// A public page through the page cache, keyed by its path (the pages take no query).
    private func cachedPage(_ request: Request, _ render: @escaping @Sendable () async throws -> String) async throws -> Response {
        let metrics = self.metrics
        return HTML.response(try await pageCache.page(request.uri.path) {
            metrics.pagesRendered.increment()
            return try await render()
        })
    }

    private func datasetRow(_ d: DatasetRecord) async throws -> [String] {
        let counts = try await store.read { try await $0.unitCounts(dataset: d.id) }
        return [HTML.link("/datasets/\(d.id)", d.name), HTML.escape(d.state.rawValue), HTML.progress(counts.validated, of: counts.total),
                "\(counts.validated)/\(counts.total)"]
    }

    /// New candidates first, then the re-detections of catalogued pulsars (ATNF), each row
    /// linking to its candidate page.
    static func candidateSections(_ candidates: [Candidate], dataset id: String) -> String {
        func row(_ rank: Int, _ c: Candidate) -> [String] {
            [HTML.link("/datasets/\(id)/candidates/\(rank)", "#\(rank + 1)"), HTML.number(c.periodS * 1000, 4), HTML.number(c.dm),
             HTML.number(c.sigma, 1), "\(c.harmonics)", HTML.number(c.snrFolded, 1),
             c.dutyCycle.map { "FFA, duty \(HTML.number($0, 3))" } ?? "FFT", c.quality.map { HTML.number($0.score, 2) } ?? "-"]
        }
        let ranked = Array(candidates.enumerated())
        let fresh = ranked.filter { $0.element.knownPulsar == nil }, known = ranked.filter { $0.element.knownPulsar != nil }
        var body = "<h2 id=\"new-candidates\">New candidates</h2>"
        body += fresh.isEmpty ? "<p class=\"muted\">None\(candidates.isEmpty ? " yet" : "").</p>"
            : HTML.table(["#", "period (ms)", "DM", "sigma", "harmonics", "folded S/N", "found by", "quality"], fresh.map(row), numeric: [1, 2, 3, 4, 5, 7])
        if !known.isEmpty {
            body += "<h2 id=\"known-pulsars\">Known pulsars re-detected</h2>"
            body += HTML.table(["#", "period (ms)", "DM", "sigma", "harmonics", "folded S/N", "found by", "quality", "pulsar", "ratio", "catalogue P (ms)", "catalogue DM"],
                               known.map { rank, c in
                                   let k = c.knownPulsar!
                                   return row(rank, c) + [HTML.escape(k.name), k.ratio, HTML.number(k.periodS * 1000, 4), k.dm.map { HTML.number($0) } ?? "-"]
                               }, numeric: [1, 2, 3, 4, 5, 7, 10, 11])
            body += "<p class=\"muted\">Matched against the ATNF pulsar catalogue (Manchester et al. 2005, AJ 129, 1993).</p>"
        }
        return body
    }

    private func candidates(of dataset: String) async throws -> [Candidate] {
        let decoder = WireCoding.decoder()
        return try await store.read { try await $0.candidateBodies(dataset: dataset) }.map {
            try decoder.decode(Candidate.self, from: Data($0.utf8))
        }
    }

    /// What was taken out before the split: the mask per channel and over time, clipping,
    /// zero-DM and the birdies zapped from every unit.
    static func interferenceSection(_ plan: DatasetSplitPlan) -> String {
        var body = "<h2>Interference</h2>"
        guard let rfi = plan.rfi else { return body + "<p class=\"muted\">No excision (the preset turns it off).</p>" }
        body += "<p id=\"rfi-summary\">\(HTML.escape(rfi.summary))</p>"
        let channels = rfi.channelFractions.enumerated().map { (Double($0.offset), 100 * $0.element) }
        body += "<figure id=\"rfi-channels\">" + SVGChart.line(channels, xLabel: "channel (file order)", yLabel: "masked (%)", title: "Masked per channel", bars: true)
        body += "<figcaption>Fraction of each channel masked\(rfi.maskedChannels.isEmpty ? "" : "; masked whole: \(rfi.maskedChannels.count) channel(s)").</figcaption></figure>"
        let blocks = rfi.blockFractions.enumerated().map { (Double($0.offset) * rfi.blockSeconds, 100 * $0.element) }
        body += "<figure id=\"rfi-time\">" + SVGChart.line(blocks, xLabel: "time (s)", yLabel: "masked (%)", title: "Masked over time", bars: true)
        body += "<figcaption>Fraction of the band masked in each block of \(HTML.number(rfi.blockSeconds, 2)) s.</figcaption></figure>"
        let birdies = (plan.preset.birdies ?? []) + rfi.birdies
        body += birdies.isEmpty ? "<p class=\"muted\">No birdies zapped.</p>"
            : "<p>Birdies zapped in every unit (the preset's, then those found at DM 0): " + birdies.map {
                HTML.escape("\(HTML.number($0.frequency, 3)) Hz ± \(HTML.number($0.width / 2, 3)) × \($0.harmonics) harmonic(s)")
            }.joined(separator: "; ") + "</p>"
        return body
    }

    static func candidatePage(_ c: Candidate, rank: Int, dataset: DatasetRecord) -> String {
        var body = "<h1>Candidate \(rank + 1) of \(HTML.link("/datasets/\(dataset.id)", dataset.name))</h1>"
        body += HTML.table(["period (ms)", "frequency (Hz)", "DM", "sigma", "harmonics", "acceleration (m/s²)", "folded S/N", "reduced χ²"], [[
            HTML.number(c.periodS * 1000, 6), HTML.number(c.frequencyHz, 6),
            HTML.number(c.dm) + (c.dmUncertainty.map { " ± " + HTML.number($0) } ?? ""), HTML.number(c.sigma, 1), "\(c.harmonics)",
            HTML.number(c.accelMS2, 1), HTML.number(c.snrFolded, 1), HTML.number(c.reducedChiSquare, 2),
        ]], numeric: [0, 1, 2, 3, 4, 5, 6, 7])
        if let k = c.knownPulsar {
            let relation = k.ratio == "1/1" ? "the pulsar itself" : "\(k.harmonic)/\(k.fraction) of its frequency"
            body += "<p class=\"known-pulsar\">Known pulsar <b>\(HTML.escape(k.name))</b> (\(relation)): catalogue period \(HTML.number(k.periodS * 1000, 6)) ms at this date, DM \(k.dm.map { HTML.number($0) } ?? "unknown"), \(HTML.number(k.separationDeg, 3))° from the pointing (ATNF catalogue).</p>"
        }
        if let q = c.quality {
            body += "<p class=\"quality\">Quality <b>\(HTML.number(q.score, 2))</b> = persistence in time \(HTML.number(q.timePersistence, 2)) × in frequency \(HTML.number(q.frequencyPersistence, 2)) × dispersion \(HTML.number(q.dispersion, 2)) × narrowness \(HTML.number(q.narrowness, 2)).</p>"
        }
        if let d = c.diagnostics {
            body += "<h2 id=\"fold-diagnostics\">Fold diagnostics</h2><p>" + FoldFacts.lines(d).map(HTML.escape).joined(separator: "<br>") + "</p>"
            for panel in FoldCharts.panels(FoldFacts.panels(d, title: "")) {
                body += "<figure id=\"\(panel.id)\">" + panel.svg + "</figure>"
            }
        }
        let profile = c.profile.enumerated().map { (Double($0.offset) / Double(max(1, c.profile.count)), Double($0.element)) }
        body += "<figure>" + SVGChart.line(profile + profile.map { ($0.0 + 1, $0.1) }, xLabel: "pulse phase (turns)", yLabel: "amplitude (σ)", title: "Folded profile", bars: true)
        body += "<figcaption>Folded profile, two turns.</figcaption></figure>"
        if let s = c.spectrum {
            let points = s.powers.enumerated().map { (s.startHz + Double($0.offset) * s.stepHz, Double($0.element)) }
            body += "<figure>" + SVGChart.line(points, xLabel: "frequency (Hz)", yLabel: "normalised power", title: "Power spectrum", markers: true)
            body += "<figcaption>Power spectrum around \(HTML.number(c.frequencyHz, 4)) Hz at DM \(HTML.number(c.dm)).</figcaption></figure>"
        }
        let curve = c.dmCurve.map { ($0.dm, $0.sigma) }.sorted { $0.0 < $1.0 }
        body += "<figure>" + SVGChart.line(curve, xLabel: "DM (pc cm⁻³)", yLabel: "sigma", title: "Sigma against DM", markers: true)
        body += "<figcaption>Detection significance at each DM trial where the signal was seen.</figcaption></figure>"
        return body
    }
}
