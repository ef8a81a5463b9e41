// A real broker with a SASL_PLAINTEXT listener, the ACL engine switched on, a policy directory and
// SCRAM users, driven by KafkaClient connections that log in as a chosen user (PLAIN). Every
// request goes through the real network path, SASL, RequestContext and the handlers.
import Foundation
import KafkaClient
import KafkaProtocol
import Security
@testable import Broker

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

final class SecuredBroker {
    static let users = ["admin", "alice", "bob", "carol"]
    let root: String
    let dataDirectory: String
    let policyDirectory: String
    let server: BrokerServer
    let port: Int

    var broker: Broker { server.broker }
    var security: BrokerSecurity { server.broker.security }

    /// `policy`: the text of `policies/main.acl`. `User:admin` is a super user (`super.users`).
    /// `prepare` runs on the data directory before the broker starts.
    init(policy: String, overrides: [String] = [], authorizer: Bool = true,
         prepare: (String) throws -> Void = { _ in }) throws {
        root = makeTemporaryDirectory("authz")
        dataDirectory = root + "/data"
        policyDirectory = root + "/policies"
        try FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: policyDirectory, withIntermediateDirectories: true)
        try policy.write(toFile: policyDirectory + "/main.acl", atomically: true, encoding: .utf8)
        var store = CredentialStore()
        for user in Self.users { try store.setPasswordForAllMechanisms(user: user, password: Self.password(user)) }
        try store.save(dataDirectory: dataDirectory)
        try prepare(dataDirectory)
        var config = BrokerConfig()
        try config.apply(overrides: [
            "listeners=SASL_PLAINTEXT://127.0.0.1:0",
            "log.dirs=\(dataDirectory)",
            "authorizer.class.name=" + (authorizer ? "org.apache.kafka.metadata.authorizer.StandardAuthorizer" : ""),
            "acls.policy.dir=\(policyDirectory)",
            "super.users=User:admin",
            "group.initial.rebalance.delay.ms=0",
            "num.network.threads=1",
        ] + overrides)
        server = try BrokerServer(config: config)
        try server.start()
        port = server.boundPorts[0]
    }

    deinit {
        server.shutdown()
        try? FileManager.default.removeItem(atPath: root)
    }

    static func password(_ user: String) -> String { "\(user)-secret" }

    /// A logged-in connection for `user` (PLAIN over SASL_PLAINTEXT).
    func connect(_ user: String, password: String? = nil, mechanism: String = "PLAIN") throws -> KafkaConnection {
        var security = ClientSecurity()
        security.protocolName = "SASL_PLAINTEXT"
        security.mechanism = mechanism
        security.username = user
        security.password = password ?? Self.password(user)
        let connection = try KafkaConnection(host: "127.0.0.1", port: port, clientId: "test-\(user)",
                                             timeoutSeconds: 10, security: security)
        try connection.negotiate()
        try connection.authenticate(security)
        return connection
    }

    func writePolicy(_ text: String, file: String = "main.acl") throws {
        try text.write(toFile: policyDirectory + "/" + file, atomically: true, encoding: .utf8)
    }

    /// Creates topics as the super user.
    func createTopics(_ names: String..., partitions: Int32 = 1) throws {
        let admin = try connect("admin")
        var request = CreateTopicsRequest()
        request.topics = names.map { name in
            var topic = CreateTopicsRequest.CreatableTopic()
            topic.name = name
            topic.numPartitions = partitions
            topic.replicationFactor = -1
            return topic
        }
        let response: CreateTopicsResponse = try admin.roundTrip(request)
        for topic in response.topics where topic.errorCode != 0 {
            throw TestFailure("create \(topic.name): \(topic.errorCode) \(topic.errorMessage ?? "")")
        }
    }
}

/// One uncompressed batch with `count` records.
func testBatch(count: Int = 1, transactional: Bool = false, producerId: Int64 = -1) throws -> [UInt8] {
    var builder = RecordBatchBuilder(isTransactional: transactional, producerId: producerId,
                                     producerEpoch: producerId >= 0 ? 0 : -1, baseSequence: producerId >= 0 ? 0 : -1)
    for i in 0..<count {
        builder.append(key: nil, value: Array("record-\(i)".utf8), timestamp: SystemClock.nowMs())
    }
    return try builder.build()
}

func produceRequest(_ topics: [String], transactionalId: String? = nil, batch: [UInt8]) -> ProduceRequest {
    var request = ProduceRequest()
    request.transactionalId = transactionalId
    request.acks = -1
    request.timeoutMs = 10_000
    request.topicData = topics.map { name in
        var t = ProduceRequest.TopicProduceData()
        t.name = name
        var p = ProduceRequest.PartitionProduceData()
        p.index = 0
        p.records = batch
        t.partitionData = [p]
        return t
    }
    return request
}

func fetchRequest(_ topics: [String], maxWaitMs: Int32 = 0) -> FetchRequest {
    var request = FetchRequest()
    request.replicaId = -1
    request.maxWaitMs = maxWaitMs
    request.minBytes = 1
    request.maxBytes = 1 << 20
    request.topics = topics.map { name in
        var p = FetchRequest.FetchPartition()
        p.partition = 0
        p.fetchOffset = 0
        p.partitionMaxBytes = 1 << 20
        var t = FetchRequest.FetchTopic()
        t.topic = name
        t.partitions = [p]
        return t
    }
    return request
}

func metadataRequest(_ topics: [String]?, autoCreate: Bool = false) -> MetadataRequest {
    var request = MetadataRequest()
    request.topics = topics.map { $0.map { name in
        var t = MetadataRequest.MetadataRequestTopic()
        t.name = name
        return t
    } }
    request.allowAutoTopicCreation = autoCreate
    return request
}

/// Error code per topic name of a response's partitions (first partition of each topic).
func errorsByTopic(_ response: ProduceResponse) -> [String: Int16] {
    Dictionary(uniqueKeysWithValues: response.responses.map { ($0.name, $0.partitionResponses[0].errorCode) })
}

func errorsByTopic(_ response: FetchResponse) -> [String: Int16] {
    Dictionary(uniqueKeysWithValues: response.responses.map { ($0.topic, $0.partitions[0].errorCode) })
}

let topicDenied = KafkaError.topicAuthorizationFailed.rawValue
let groupDenied = KafkaError.groupAuthorizationFailed.rawValue
let clusterDenied = KafkaError.clusterAuthorizationFailed.rawValue
let transactionalIdDenied = KafkaError.transactionalIdAuthorizationFailed.rawValue

/// Bit n set for each operation code n (Kafka's authorized-operations bitfield).
func operationBits(_ operations: AclOperation...) -> Int32 {
    operations.reduce(0) { $0 | (Int32(1) << Int32($1.rawValue)) }
}

/// An AlterUserScramCredentials upsertion as a client builds it (the salted password derived here).
func scramUpsertion(_ user: String, _ mechanism: ScramMechanism, _ password: String, iterations: Int = 4096,
                    mechanismType: Int8? = nil) -> AlterUserScramCredentialsRequest.ScramCredentialUpsertion {
    var u = AlterUserScramCredentialsRequest.ScramCredentialUpsertion()
    u.name = user
    u.mechanism = mechanismType ?? mechanism.kafkaType
    u.iterations = Int32(iterations)
    u.salt = CredentialStore.randomSalt()
    u.saltedPassword = CredentialStore.hashPassword(mechanism: mechanism, password: password, salt: u.salt,
                                                    iterations: max(iterations, 1))
    return u
}

func scramDeletion(_ user: String, _ mechanism: Int8) -> AlterUserScramCredentialsRequest.ScramCredentialDeletion {
    var d = AlterUserScramCredentialsRequest.ScramCredentialDeletion()
    d.name = user
    d.mechanism = mechanism
    return d
}

/// DescribeUserScramCredentials for `users` (nil: every user).
func describeScram(_ connection: KafkaConnection, _ users: [String]?) throws -> DescribeUserScramCredentialsResponse {
    var request = DescribeUserScramCredentialsRequest()
    request.users = users.map { $0.map { name in
        var user = DescribeUserScramCredentialsRequest.UserName()
        user.name = name
        return user
    } }
    return try connection.roundTrip(request)
}
