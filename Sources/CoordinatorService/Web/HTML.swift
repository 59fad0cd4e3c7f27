import CoordinatorCore
import Foundation
import Hummingbird
import XunxingMarkup

/// Server-rendered HTML with no external assets: one stylesheet inline, plots as inline SVG.
enum HTML {
    /// Escapes text for element content and attribute values.
    static func escape(_ s: String) -> String { MarkupText.escaped(s) }

    static let style = """
        body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1c2333;background:#f6f7fb}
        header{background:#141b2d;color:#fff;padding:.8em 1.5em;display:flex;gap:1.5em;align-items:baseline}
        header a{color:#cfd8ff;text-decoration:none}header strong{font-size:1.2em;color:#fff}
        main{max-width:60em;margin:1.5em auto;padding:0 1em}
        table{border-collapse:collapse;width:100%;background:#fff}th,td{padding:.35em .6em;border-bottom:1px solid #e3e6ef;text-align:left}
        th{background:#eef1f8;font-weight:600}td.n{text-align:right;font-variant-numeric:tabular-nums}
        .cards{display:flex;flex-wrap:wrap;gap:.8em}.card{background:#fff;padding:.8em 1em;border-radius:6px;min-width:9em;box-shadow:0 1px 2px #0001}
        .card b{display:block;font-size:1.5em}.bar{background:#e3e6ef;height:.7em;border-radius:.35em;overflow:hidden;min-width:8em}
        .bar span{display:block;height:100%;background:#3b6fe0}.muted{color:#68708a}figure{background:#fff;margin:1em 0;padding:.5em}
        figcaption{color:#68708a;font-size:.9em}
        """

    /// A whole page.
    static func page(title: String, _ body: String) -> Response { response(document(title: title, body)) }

    /// A whole page's HTML.
    static func document(title: String, _ body: String) -> String {
        """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
            <title>\(escape(title)) · Xunxing</title><style>\(style)</style></head>
            <body><header><strong>寻星 Xunxing</strong><a href="/">Home</a><a href="/datasets">Datasets</a><a href="/leaderboard">Leaderboard</a></header>
            <main>\(body)</main></body></html>
            """
    }

    /// An HTML page as a response, with the pages' content security policy.
    static func response(_ html: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/html; charset=utf-8"
        headers[.contentSecurityPolicy] = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    static func table(_ headings: [String], _ rows: [[String]], numeric: Set<Int> = []) -> String {
        let head = headings.map { "<th>\(escape($0))</th>" }.joined()
        let body = rows.map { row in
            "<tr>" + row.enumerated().map { i, cell in numeric.contains(i) ? "<td class=\"n\">\(cell)</td>" : "<td>\(cell)</td>" }.joined() + "</tr>"
        }.joined(separator: "\n")
        return "<table><thead><tr>\(head)</tr></thead><tbody>\n\(body)\n</tbody></table>"
    }

    static func progress(_ done: Int, of total: Int) -> String {
        let percent = total > 0 ? Int((Double(done) / Double(total) * 100).rounded()) : 0
        return "<div class=\"bar\" title=\"\(percent)%\"><span style=\"width:\(percent)%\"></span></div>"
    }

    static func number(_ x: Double, _ digits: Int = 2) -> String { String(format: "%.\(digits)f", x) }

    static func link(_ href: String, _ text: String) -> String { "<a href=\"\(escape(href))\">\(escape(text))</a>" }
}
