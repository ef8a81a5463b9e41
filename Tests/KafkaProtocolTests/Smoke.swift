import Testing

@Test func KafkaProtocolTestsBuilds() { #expect(Bool(true)) }
