import KafkaProtocol

/// OffsetFetch: v0–v8 (v0 read ZooKeeper in old Kafka and the coordinator in 3.x, as here; Kafka 4
/// dropped it in KIP-896). Returns committed offsets (-1 and empty metadata where none); a null topic
/// list (v2+) asks for all of the group's offsets. v2+ has a top-level error, v8+ asks for
/// several groups at once (per-group errors). `require_stable` (v7+) is accepted: without
/// transactions no offset is ever pending. COORDINATOR_LOAD_IN_PROGRESS while loading.
/// Authorization (Kafka's): Describe on the group (GROUP_AUTHORIZATION_FAILED), Describe on each
/// topic (TOPIC_AUTHORIZATION_FAILED per asked-for partition; left out of a fetch-all).
extension Broker {
    func handleOffsetFetch(_ header: RequestContext, _ r: inout WireReader) throws(DecodeError) -> HandlerOutcome {
        var request = try OffsetFetchRequest(from: &r, version: header.apiVersion)
        let names = header.names
        if header.tenant != nil {
            request.groupId = names.group(request.groupId)
            for t in (request.topics ?? []).indices { request.topics![t].name = names.topic(request.topics![t].name) }
            for g in request.groups.indices {
                request.groups[g].groupId = names.group(request.groups[g].groupId)
                for t in (request.groups[g].topics ?? []).indices {
                    request.groups[g].topics![t].name = names.topic(request.groups[g].topics![t].name)
                }
            }
        }
        let loading = groups.isLoading
        let access = access(header)
        var response = OffsetFetchResponse()

        func fetch(_ groupId: String, _ requested: [(String, [Int32])]?)
            -> (KafkaError, [(String, [(Int32, CommittedOffset?, KafkaError)])]) {
            if !access.allowsGroup(.describe, groupId) { return (.groupAuthorizationFailed, []) }
            if groupId.isEmpty { return (.invalidGroupId, []) }
            // Offsets of topics the caller may not describe are not shown: asked-for partitions
            // answer TOPIC_AUTHORIZATION_FAILED (after the others), a fetch-all leaves them out.
            let denied = requested.map { access.deniedNames(.describe, .topic, $0.lazy.map(\.0)) } ?? []
            let topics = requested.map { $0.filter { denied.isEmpty || !denied.contains($0.0) } }
            let deniedAnswers = (requested ?? []).filter { !denied.isEmpty && denied.contains($0.0) }
                .map { t in (t.0, t.1.map { ($0, CommittedOffset?.none, KafkaError.topicAuthorizationFailed) }) }
            if loading {
                let partitions = topics ?? []
                return (.coordinatorLoadInProgress,
                        partitions.map { t in (t.0, t.1.map { ($0, nil, .coordinatorLoadInProgress) }) } + deniedAnswers)
            }
            let wanted = topics.map { $0.flatMap { t in t.1.map { TopicPartitionID(t.0, $0) } } }
            var byTopic: [(String, [(Int32, CommittedOffset?, KafkaError)])] = []
            if wanted?.isEmpty != true || deniedAnswers.isEmpty {
                for (tp, o) in groups.fetchOffsets(groupId: groupId, partitions: wanted) {
                    if byTopic.last?.0 != tp.topic { byTopic.append((tp.topic, [])) }
                    byTopic[byTopic.count - 1].1.append((tp.partition, o, .none))
                }
            }
            if requested == nil && !access.allowsEverything {
                let hidden = access.deniedNames(.describe, .topic, byTopic.lazy.map(\.0))
                if !hidden.isEmpty { byTopic.removeAll { hidden.contains($0.0) } }
            }
            return (.none, byTopic + deniedAnswers)
        }

        if header.apiVersion >= 8 {
            for g in request.groups {
                let (error, topics) = fetch(g.groupId, g.topics.map { $0.map { ($0.name, $0.partitionIndexes) } })
                var rg = OffsetFetchResponse.OffsetFetchResponseGroup()
                rg.groupId = names.local(g.groupId)
                rg.errorCode = error.rawValue
                rg.topics = topics.map { name, partitions in
                    var rt = OffsetFetchResponse.OffsetFetchResponseTopics()
                    rt.name = names.local(name)
                    rt.partitions = partitions.map { index, o, e in
                        var rp = OffsetFetchResponse.OffsetFetchResponsePartitions()
                        rp.partitionIndex = index
                        rp.committedOffset = o?.offset ?? -1
                        rp.committedLeaderEpoch = o?.leaderEpoch ?? -1
                        rp.metadata = o?.metadata ?? ""
                        rp.errorCode = e.rawValue
                        return rp
                    }
                    return rt
                }
                response.groups.append(rg)
            }
            return .respond(response)
        }
        var (error, topics) = fetch(request.groupId, request.topics.map { $0.map { ($0.name, $0.partitionIndexes) } })
        if header.apiVersion < 2 && error == .groupAuthorizationFailed {
            // v1 has no top-level error: every asked-for partition carries it (Kafka's answer).
            topics = (request.topics ?? []).map { t in (t.name, t.partitionIndexes.map { ($0, nil, error) }) }
        }
        response.errorCode = error.rawValue
        response.topics = topics.map { name, partitions in
            var rt = OffsetFetchResponse.OffsetFetchResponseTopic()
            rt.name = names.local(name)
            rt.partitions = partitions.map { index, o, e in
                var rp = OffsetFetchResponse.OffsetFetchResponsePartition()
                rp.partitionIndex = index
                rp.committedOffset = o?.offset ?? -1
                rp.committedLeaderEpoch = o?.leaderEpoch ?? -1
                rp.metadata = o?.metadata ?? ""
                rp.errorCode = e.rawValue
                return rp
            }
            return rt
        }
        return .respond(response)
    }
}
