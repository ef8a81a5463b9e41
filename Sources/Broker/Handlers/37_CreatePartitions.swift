import KafkaProtocol

/// CreatePartitions: v0–v3. Only increases the count (INVALID_PARTITIONS otherwise); an explicit
/// assignment must name this node only; `validate_only` checks without changing anything.
/// Authorization: Alter on each topic (TOPIC_AUTHORIZATION_FAILED, checked before existence).
extension Broker {
    func handleCreatePartitions(_ header: RequestContext, _ r: inout WireReader) throws(DecodeError) -> HandlerOutcome {
        var request = try CreatePartitionsRequest(from: &r, version: header.apiVersion)
        if header.tenant != nil {
            for i in request.topics.indices { request.topics[i].name = header.names.topic(request.topics[i].name) }
        }
        var response = CreatePartitionsResponse()
        let access = access(header)
        var addedByRequest = (topics: 0, partitions: 0)
        for topic in request.topics {
            var result = CreatePartitionsResponse.CreatePartitionsTopicResult()
            result.name = topic.name
            func fail(_ error: KafkaError, _ message: String) {
                result.errorCode = error.rawValue
                result.errorMessage = message
            }
            if !access.allowsTopic(.alter, topic.name) {
                fail(.topicAuthorizationFailed, AuthorizationMessage.denied(.alter, .topic(topic.name)))
            } else if let current = metadata.topic(topic.name) {
                if topic.count <= current.partitionCount {
                    fail(.invalidPartitions, topic.count == current.partitionCount
                         ? "Topic already has \(current.partitionCount) partitions."
                         : "Topic currently has \(current.partitionCount) partitions, which is higher than the requested \(topic.count).")
                } else if let assignments = topic.assignments,
                          assignments.count != Int(topic.count - current.partitionCount)
                            || assignments.contains(where: { $0.brokerIds != [config.nodeId] }) {
                    fail(.invalidReplicaAssignment, "Assignments must name broker \(config.nodeId) once per new partition.")
                } else if let subject = header.quotaSubject,
                          let refusal = tenantCreationLimit(subject, addingTopics: 0,
                                                            partitions: Int(topic.count - current.partitionCount),
                                                            alreadyAdded: &addedByRequest) {
                    fail(.policyViolation, refusal)
                } else if !request.validateOnly {
                    do {
                        try replicas.addPartitions(topic.name, to: topic.count)
                    } catch {
                        fail(.unknownServerError, "\(error)")
                    }
                }
            } else {
                fail(.unknownTopicOrPartition, "This server does not host this topic.")
            }
            result.name = header.names.local(result.name)
            result.errorMessage = header.names.message(result.errorMessage)
            response.results.append(result)
        }
        return .respond(response)
    }
}
