// XunxingProtocol
