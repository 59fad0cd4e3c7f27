// XunxingHTTPClient
