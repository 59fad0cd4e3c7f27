import ArgumentParser
import Foundation
import XunxingClient
import XunxingProtocol

struct SignupCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "signup",
        abstract: "Sign up as a volunteer; prints your account key on the last line.",
        discussion: """
            Keep the account key secret: it attaches your machines to your account \
            (`xunxing-worker attach --account-key KEY`) and shows your profile.

            Example:
              xunxing signup --coordinator https://xunxing.example.org --email you@example.org --name "Your Name"
            """
    )

    @OptionGroup var options: CoordinatorOptions
    @Option(help: "Your email address.") var email: String
    @Option(help: "The name shown on your profile and the leaderboard.") var name: String

    func run() throws {
        let response = try options.client(requireToken: false).signup(email: email, name: name)
        print("volunteer account \(response.accountID) created; your account key:")
        print(response.accountKey)
    }
}

struct ProfileCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "profile",
        abstract: "Show your volunteer profile: charity hours, hosts, work units, sync state.",
        discussion: """
            hours_total counts validated work only, in reference-core hours estimated by the \
            coordinator (never what a machine claims), at most 24 x the reference cores each machine has shown on its validated \
            work per day.

            Examples:
              xunxing profile --coordinator URL --account-key xxvol_... --format json
              xunxing profile --account-key xxvol_... --statement 2026      # month by month
              xunxing profile --account-key xxvol_... --link-platform xxlink1.amFuZS1kb2U.1796000000.n1.9f2c...
            The link code comes from the profile platform (signed in as you there); it works once and expires.
            """
    )

    @Option(help: "Coordinator URL (default: $XUNXING_COORDINATOR).") var coordinator: String?
    @Option(help: "Your account key from `xunxing signup` (default: $XUNXING_ACCOUNT_KEY).") var accountKey: String?
    @Option(help: "Link your profile on the external volunteer-profile platform first, with the link code it gave you.") var linkPlatform: String?
    @Option(help: "Print the yearly statement for this year instead.") var statement: Int?
    @Option(help: "Output: table or json.") var format: OutputFormat = .table

    func run() throws {
        let environment = ProcessInfo.processInfo.environment
        let options = CoordinatorOptions(coordinator: coordinator, token: accountKey ?? environment["XUNXING_ACCOUNT_KEY"])
        let client = try options.client()
        var profile = try linkPlatform.map { try client.linkPlatform(code: $0) } ?? client.myProfile()
        if let year = statement {
            let s = try client.statement(volunteer: profile.id, year: year)
            if format == .json { return try printJSON(s) }
            print("\(s.name): \(s.year), \(String(format: "%.2f", s.hoursTotal)) hours")
            for m in s.months { print(String(format: "  %02d  %10.3f h  %6d units", m.month, m.hours, m.workUnits)) }
            return
        }
        if format == .json { return try printJSON(profile) }
        profile.hosts.sort { $0.hoursTotal > $1.hoursTotal }
        print("\(profile.name): \(HoursText.format(profile.hoursTotal)) of charity work, \(profile.workUnits) work units, \(profile.datasetsHelped) datasets, \(profile.candidates) candidates")
        for (year, hours) in profile.hoursByYear.sorted(by: { $0.key < $1.key }) { print("  \(year): \(HoursText.format(hours))") }
        for h in profile.hosts { print("  host \(h.name) (\(h.cores) cores): \(HoursText.format(h.hoursTotal)), \(h.workUnits) units") }
        if let sync = profile.sync { print("  platform profile \(sync.platformProfileID ?? "-"): \(sync.state), \(sync.pendingEntries) entries pending\(sync.lastError.map { ", last error: \($0)" } ?? "")") }
    }
}


struct KeyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "key",
        abstract: "Replace your key, or revoke a machine's.",
        discussion: """
            `rotate` replaces the key given with --token (an account key, an API token or a host \
            key) and prints the new one on the last line: the old key stops working at once. \
            `revoke-host ID` shuts out one of your machines (lost, sold, retired); attach it again \
            to give it a new key.

            Examples:
              xunxing key rotate --token xxvol_...
              xunxing key revoke-host 5d1c... --token xxvol_...
            """,
        subcommands: [Rotate.self, RevokeHost.self]
    )

    struct Rotate: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Replace the key given with --token; prints the new key.")
        @OptionGroup var options: CoordinatorOptions
        func run() throws {
            let key = try options.client().rotateKey()
            print("the old key no longer works; your new key:")
            print(key)
        }
    }

    struct RevokeHost: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "revoke-host", abstract: "Revoke every key of one of your machines.")
        @OptionGroup var options: CoordinatorOptions
        @Argument(help: "The host's id (`xunxing profile` lists them).") var host: String
        func run() throws {
            try options.client().revokeHost(host)
            print("host \(host) revoked")
        }
    }
}
