import CCurl

/// Result of the one-time `curl_global_init`. A global `let` is initialised lazily and exactly
/// once (thread-safe), which is what libcurl asks for.
private let curlGlobalInitCode: CURLcode = xx_curl_global_init_default()

/// A libcurl easy handle with its error buffer and header list, owned by one transfer on one thread.
///
/// Not thread-safe and deliberately not `Sendable`: each transfer creates its own and frees it
/// when done (`deinit`).
final class CurlEasy {
    let handle: UnsafeMutableRawPointer
    private(set) var url: String
    private let errorBuffer: UnsafeMutablePointer<CChar>
    private var headerList: UnsafeMutablePointer<curl_slist>?

    /// Creates a handle for a transfer of `url`, with the options every transfer shares.
    init(url: String, configuration: HTTPClientConfiguration) throws {
        let initCode = curlGlobalInitCode
        guard initCode == CURLE_OK else {
            throw HTTPClientError.transport(url: url, code: Int(initCode.rawValue), message: "curl_global_init failed")
        }
        guard let handle = curl_easy_init() else {
            throw HTTPClientError.transport(url: url, code: -1, message: "curl_easy_init failed")
        }
        self.handle = handle
        self.url = url
        let size = Int(CURL_ERROR_SIZE)
        errorBuffer = .allocate(capacity: size)
        errorBuffer.initialize(repeating: 0, count: size)

        try set(CURLOPT_ERRORBUFFER, pointer: UnsafeMutableRawPointer(errorBuffer))
        try set(CURLOPT_NOSIGNAL, 1)
        try set(CURLOPT_URL, url)
        try set(CURLOPT_PROTOCOLS_STR, "http,https")
        try set(CURLOPT_REDIR_PROTOCOLS_STR, "http,https")
        try set(CURLOPT_TIMEOUT_MS, Self.milliseconds(configuration.timeout))
        try set(CURLOPT_CONNECTTIMEOUT_MS, Self.milliseconds(configuration.connectTimeout))
        try set(CURLOPT_LOW_SPEED_LIMIT, max(0, configuration.lowSpeedLimit))
        try set(CURLOPT_LOW_SPEED_TIME, max(0, configuration.lowSpeedTime))
        try set(CURLOPT_USERAGENT, configuration.userAgent)
        if let proxy = configuration.proxy {
            try set(CURLOPT_PROXY, proxy)
        }
        if !configuration.verifyTLS {
            try set(CURLOPT_SSL_VERIFYPEER, 0)
            try set(CURLOPT_SSL_VERIFYHOST, 0)
        }
        if let caBundlePath = configuration.caBundlePath {
            try set(CURLOPT_CAINFO, caBundlePath)
        }
    }

    /// Points a handle that has finished a transfer at the next one, keeping its connection cache
    /// (so the next request to the same server reuses the open connection) and clearing the
    /// per-request options of the last one.
    func prepareForReuse(url: String) throws {
        self.url = url
        try set(CURLOPT_URL, url)
        try set(CURLOPT_UPLOAD, 0)
        try set(CURLOPT_NOBODY, 0)
        try check(xx_curl_setopt_pointer(handle, CURLOPT_CUSTOMREQUEST, nil), CURLOPT_CUSTOMREQUEST)
        try set(CURLOPT_HTTPGET, 1)
    }

    /// Seconds as whole milliseconds for libcurl: negative, NaN and infinite values mean no limit.
    private static func milliseconds(_ seconds: Double) -> Int {
        guard seconds.isFinite, seconds > 0 else { return 0 }
        return Int(min(seconds, 1e9) * 1000)
    }

    deinit {
        curl_easy_cleanup(handle)
        if let headerList { curl_slist_free_all(headerList) }
        errorBuffer.deallocate()
    }

    // MARK: Options

    func set(_ option: CURLoption, _ value: Int) throws {
        try check(xx_curl_setopt_long(handle, option, value), option)
    }

    func set(_ option: CURLoption, _ value: String) throws {
        // libcurl copies string options, so the temporary C string may go away afterwards.
        try check(value.withCString { xx_curl_setopt_string(handle, option, $0) }, option)
    }

    func set(_ option: CURLoption, offset value: Int64) throws {
        try check(xx_curl_setopt_offset(handle, option, curl_off_t(value)), option)
    }

    func set(_ option: CURLoption, pointer value: UnsafeMutableRawPointer?) throws {
        try check(xx_curl_setopt_pointer(handle, option, value), option)
    }

    /// Sets the request headers. An empty value sends the header with no value (`Name;` in
    /// libcurl's syntax); `Expect` is suppressed unless given, so bodies go out without waiting
    /// for `100 Continue`.
    func setHeaders(_ headers: [String: String]) throws {
        var list: UnsafeMutablePointer<curl_slist>? = nil
        var hasExpect = false
        for (name, value) in headers.sorted(by: { $0.key < $1.key }) {
            let cleanName = Self.stripLineBreaks(name).trimmingSpaces()
            let cleanValue = Self.stripLineBreaks(value).trimmingSpaces()
            guard !cleanName.isEmpty else { continue }
            if cleanName.lowercased() == "expect" { hasExpect = true }
            let line = cleanValue.isEmpty ? "\(cleanName);" : "\(cleanName): \(cleanValue)"
            list = curl_slist_append(list, line)
        }
        if !hasExpect { list = curl_slist_append(list, "Expect:") }
        if let old = headerList { curl_slist_free_all(old) }
        headerList = list
        try check(xx_curl_setopt_slist(handle, CURLOPT_HTTPHEADER, list), CURLOPT_HTTPHEADER)
    }

    private static func stripLineBreaks(_ text: String) -> String {
        String(text.map { $0 == "\r" || $0 == "\n" || $0 == "\r\n" ? " " : $0 })
    }

    private func check(_ code: CURLcode, _ option: CURLoption) throws {
        guard code == CURLE_OK else {
            throw HTTPClientError.transport(
                url: url, code: Int(code.rawValue),
                message: "setting option \(option.rawValue): \(String(cString: curl_easy_strerror(code)))")
        }
    }

    // MARK: Transfer

    /// Runs the transfer on the calling thread and returns libcurl's result code and message.
    func perform() -> (code: CURLcode, message: String) {
        errorBuffer[0] = 0
        let code = curl_easy_perform(handle)
        if code == CURLE_OK { return (code, "") }
        let buffered = String(cString: errorBuffer)
        let message = buffered.isEmpty ? String(cString: curl_easy_strerror(code)) : buffered
        return (code, message.trimmingSpaces())
    }

    /// The status code of the last response received so far (0 before any).
    var responseCode: Int {
        var value = 0
        _ = xx_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &value)
        return value
    }

    /// The announced body length of the current response, if known.
    var contentLength: Int64? {
        var value: curl_off_t = -1
        guard xx_curl_getinfo_offset(handle, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &value) == CURLE_OK,
              value >= 0 else { return nil }
        return Int64(value)
    }
}

extension String {
    /// The string without leading and trailing spaces, tabs, carriage returns and line feeds.
    func trimmingSpaces() -> String {
        let isSpace: (Unicode.Scalar) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\r" || $0 == "\n" }
        var scalars = Substring(self).unicodeScalars
        while let first = scalars.first, isSpace(first) { scalars.removeFirst() }
        while let last = scalars.last, isSpace(last) { scalars.removeLast() }
        return String(scalars)
    }
}
