import ArgumentParser
import Foundation
import XunxingClient

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
