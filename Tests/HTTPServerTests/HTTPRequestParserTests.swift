import Foundation
import Testing
@testable import HTTPServer

private func parseAll(_ text: String, limits: HTTPLimits = HTTPLimits(), byteByByte: Bool = false) throws(HTTPParseError) -> [HTTPRequest] {
    var parser = HTTPRequestParser(limits: limits)
    var out: [HTTPRequest] = []
    if byteByByte {
        for b in Array(text.utf8) {
            parser.append([b])
            while let r = try parser.next() { out.append(r) }
        }
    } else {
        parser.append(Array(text.utf8))
        while let r = try parser.next() { out.append(r) }
    }
    return out
}

private func status(_ text: String, limits: HTTPLimits = HTTPLimits()) -> Int? {
    do {
        _ = try parseAll(text, limits: limits)
        return nil
    } catch {
        return error.status
    }
}

@Suite struct HTTPRequestParserTests {
    @Test func simpleGetAndPipelinedPost() throws {
        let text = "GET /subjects?deleted=true HTTP/1.1\r\nHost: x\r\nAccept: */*\r\n\r\n"
            + "POST /subjects/a%2Fb/versions HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nConnection: close\r\n\r\nabcd"
        for byteByByte in [false, true] {
            let requests = try parseAll(text, byteByByte: byteByByte)
            #expect(requests.count == 2)
            #expect(requests[0].method == "GET" && requests[0].pathSegments == ["subjects"])
            #expect(requests[0].queryItems?.first?.name == "deleted" && requests[0].queryItems?.first?.value == "true")
            #expect(requests[0].header("ACCEPT") == "*/*" && requests[0].keepAlive)
            #expect(requests[1].pathSegments == ["subjects", "a/b", "versions"])
            #expect(requests[1].body == Array("abcd".utf8) && !requests[1].keepAlive)
        }
    }

    @Test func chunkedBodyIsDecoded() throws {
        let text = "PUT /config HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
            + "3;ext=1\r\nabc\r\n2\r\nde\r\n0\r\nTrailer: t\r\n\r\n"
        for byteByByte in [false, true] {
            let r = try parseAll(text, byteByByte: byteByByte)
            #expect(r.count == 1 && r[0].body == Array("abcde".utf8))
        }
    }

    @Test func keepAliveRules() throws {
        #expect(try parseAll("GET / HTTP/1.0\r\n\r\n")[0].keepAlive == false)
        #expect(try parseAll("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n")[0].keepAlive)
        #expect(try parseAll("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")[0].keepAlive == false)
    }

    @Test func queryAndPathDecoding() throws {
        let r = try parseAll("GET /a%20b/c+d?x=1+2&y=%41&z HTTP/1.1\r\nHost: h\r\n\r\n")[0]
        #expect(r.pathSegments == ["a b", "c+d"])
        #expect(r.queryItems?.map(\.name) == ["x", "y", "z"] && r.queryItems?.map(\.value) == ["1 2", "A", ""])
        #expect(try parseAll("GET /%zz HTTP/1.1\r\nHost: h\r\n\r\n")[0].pathSegments == nil)
    }

    @Test func malformedInputGetsPreciseStatus() {
        var small = HTTPLimits()
        small.maxRequestLineBytes = 64
        small.maxHeaderBytes = 256
        small.maxHeaderCount = 3
        small.maxBodyBytes = 10
        #expect(status("NONSENSE\r\n\r\n") == 400)
        #expect(status("GET / HTTP/1.1\r\n\r\n") == 400)  // no Host
        #expect(status("GET / HTTP/1.1\r\nHost : x\r\n\r\n") == 400)
        #expect(status("GET / HTTP/1.1\r\nHost: x\r\nBad\r\n\r\n") == 400)
        #expect(status("GET relative HTTP/1.1\r\nHost: x\r\n\r\n") == 400)
        #expect(status("GET / HTTP/3\r\nHost: x\r\n\r\n") == 505)
        #expect(status("GET /" + String(repeating: "a", count: 100) + " HTTP/1.1\r\n", limits: small) == 414)
        #expect(status("GET /" + String(repeating: "a", count: 100), limits: small) == 414)
        #expect(status("GET / HTTP/1.1\r\nHost: x\r\nA: " + String(repeating: "b", count: 300) + "\r\n\r\n", limits: small) == 431)
        #expect(status("GET / HTTP/1.1\r\nHost: x\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", limits: small) == 431)
        #expect(status("POST / HTTP/1.1\r\nHost: x\r\n\r\n") == 411)
        #expect(status("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\n", limits: small) == 413)
        #expect(status("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n") == 400)
        #expect(status("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n") == 400)
        #expect(status("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n") == 501)
        #expect(status("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n") == 400)
        #expect(status("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n") == 400)
        #expect(status("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n8\r\n0123456789\r\n", limits: small) == 400)  // chunk longer than its size
        #expect(status("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nb\r\n", limits: small) == 413)
    }

    @Test func incompleteInputWaits() throws {
        var parser = HTTPRequestParser()
        parser.append(Array("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nab".utf8))
        #expect(try parser.next() == nil)
        parser.append(Array("cde".utf8))
        #expect(try parser.next()?.body == Array("abcde".utf8))
        #expect(parser.bufferedCount == 0)
    }

    @Test func expectContinueIsSignalledOnce() throws {
        var parser = HTTPRequestParser()
        parser.append(Array("PUT /x HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n".utf8))
        #expect(try parser.next() == nil && parser.wantsContinue)
        parser.continueSent()
        parser.append([1])
        #expect(try parser.next() == nil && !parser.wantsContinue)
        parser.append([2, 3])
        #expect(try parser.next()?.body == [1, 2, 3])
    }

    @Test func responseSerialization() {
        let r = HTTPResponse(status: 404, headers: [("Content-Type", "application/json")], body: Array("{}".utf8))
        #expect(String(decoding: r.serialized(keepAlive: false), as: UTF8.self)
            == "HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}")
        #expect(String(decoding: r.serialized(keepAlive: true, headOnly: true), as: UTF8.self).hasSuffix("Content-Length: 2\r\n\r\n"))
    }

    @Test func listenerAddresses() throws {
        #expect(try HTTPListenerAddress.parse("http://127.0.0.1:8081").get() == HTTPListenerAddress(scheme: "http", host: "127.0.0.1", port: 8081))
        #expect(try HTTPListenerAddress.parse("https://[::1]:8082/").get() == HTTPListenerAddress(scheme: "https", host: "::1", port: 8082))
        #expect((try? HTTPListenerAddress.parse("ftp://x:1").get()) == nil)
        #expect((try? HTTPListenerAddress.parse("http://x").get()) == nil)
        #expect((try? HTTPListenerAddress.parse("http://x:70000").get()) == nil)
    }
}

@Suite struct HTTPServerTests {
    @Test func servesRequestsOverSockets() throws {
        let server = HTTPServer(listeners: [HTTPListenerAddress(scheme: "http", host: "127.0.0.1", port: 0)]) { request, _ in
            HTTPResponse(status: 200, body: Array("\(request.method) \(request.target) \(request.body.count)".utf8))
        }
        try server.start()
        defer { server.shutdown() }
        let port = server.boundPorts[0]
        let get = try HTTPClient.send("GET", url: "http://127.0.0.1:\(port)/x?y=1")
        #expect(get.status == 200 && get.text == "GET /x?y=1 0")
        let post = try HTTPClient.send("POST", url: "http://127.0.0.1:\(port)/p", body: Array(repeating: 7, count: 100_000))
        #expect(post.text == "POST /p 100000")
    }

    @Test func httpsWithoutTransportIsRefused() {
        let server = HTTPServer(listeners: [HTTPListenerAddress(scheme: "https", host: "127.0.0.1", port: 0)]) { _, _ in
            HTTPResponse(status: 200)
        }
        #expect(throws: HTTPServerError.self) { try server.start() }
    }
}
