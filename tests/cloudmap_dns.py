"""A DNS server on loopback that answers for a Cloud Map private namespace the way Route 53 does.

The records come from Cloud Map itself (moto's), read on every query: the services' DNS config says which
record types exist and their TTL, the registered instances are the answers. Like Route 53 for a MULTIVALUE
service, it answers with at most 8 records, chosen at random when there are more; for SRV it also answers the
A record of each target (`<instance id>.<service>.<namespace>`), which Cloud Map creates alongside.
"""

from __future__ import annotations

import random
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from dnslib import QTYPE, RCODE, RR, SRV, A, DNSRecord
from dnslib.server import BaseResolver, DNSHandler, DNSServer

from mapgate.aws_facts import MULTIVALUE_MAX_RECORDS


class CloudMapResolver(BaseResolver):
    def __init__(self, client: Any, namespace_id: str):
        self.client = client
        self.namespace_id = namespace_id
        self.namespace = client.get_namespace(Id=namespace_id)["Namespace"]["Name"].rstrip(".").lower()
        self.queries: list[tuple[str, str]] = []

    def _services(self) -> dict[str, dict[str, Any]]:
        listed = self.client.list_services(Filters=[{"Name": "NAMESPACE_ID", "Values": [self.namespace_id]}])
        return {s["Name"]: self.client.get_service(Id=s["Id"])["Service"] for s in listed["Services"]}

    def _instances(self, service_id: str) -> list[dict[str, Any]]:
        return list(self.client.list_instances(ServiceId=service_id)["Instances"])

    def resolve(self, request: DNSRecord, handler: DNSHandler) -> DNSRecord:
        reply = request.reply()
        qname = str(request.q.qname).rstrip(".").lower()
        qtype = QTYPE[request.q.qtype]
        self.queries.append((qname, qtype))
        if not qname.endswith("." + self.namespace):
            reply.header.rcode = RCODE.REFUSED
            return reply
        labels = qname.removesuffix("." + self.namespace).split(".")
        services = self._services()
        service = services.get(labels[-1])
        if service is None or len(labels) > 2:
            reply.header.rcode = RCODE.NXDOMAIN
            return reply
        records = {r["Type"]: r["TTL"] for r in service["DnsConfig"]["DnsRecords"]}
        instances = self._instances(service["Id"])
        if len(labels) == 2:  # `<instance id>.<service>`: the A record Cloud Map makes for an SRV target
            instances = [i for i in instances if i["Id"].lower() == labels[0]]
            if "SRV" not in records or not instances:
                reply.header.rcode = RCODE.NXDOMAIN
                return reply
            if qtype == "A":
                ip = instances[0]["Attributes"]["AWS_INSTANCE_IPV4"]
                reply.add_answer(RR(request.q.qname, QTYPE.A, ttl=records["SRV"], rdata=A(ip)))
            return reply
        if not instances:
            reply.header.rcode = RCODE.NXDOMAIN  # Cloud Map deletes the records of a service with no instance
            return reply
        chosen = random.sample(instances, min(len(instances), MULTIVALUE_MAX_RECORDS))
        for instance in chosen:
            attributes = instance["Attributes"]
            if qtype == "A" and "A" in records:
                rdata: Any = A(attributes["AWS_INSTANCE_IPV4"])
                reply.add_answer(RR(request.q.qname, QTYPE.A, ttl=records["A"], rdata=rdata))
            elif qtype == "SRV" and "SRV" in records:
                target = f"{instance['Id']}.{labels[0]}.{self.namespace}."
                rdata = SRV(priority=1, weight=1, port=int(attributes["AWS_INSTANCE_PORT"]), target=target)
                reply.add_answer(RR(request.q.qname, QTYPE.SRV, ttl=records["SRV"], rdata=rdata))
        return reply


class _QuietLogger:
    def __getattr__(self, name: str) -> Any:
        return lambda *args: None


@contextmanager
def serving(resolver: CloudMapResolver) -> Iterator[str]:
    """Serve `resolver` on 127.0.0.1 over UDP and TCP, on one free port; yields `127.0.0.1:<port>`."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        try:
            udp = DNSServer(resolver, address="127.0.0.1", port=port, logger=_QuietLogger())
            tcp = DNSServer(resolver, address="127.0.0.1", port=port, tcp=True, logger=_QuietLogger())
            break
        except OSError:  # the port was taken in between: try another
            continue
    udp.start_thread()
    tcp.start_thread()
    try:
        yield f"127.0.0.1:{port}"
    finally:
        # Each stop waits out its server's poll interval; stop both at once.
        stopping = [threading.Thread(target=server.stop) for server in (udp, tcp)]
        for thread in stopping:
            thread.start()
        for thread in stopping:
            thread.join()
        udp.server.server_close()
        tcp.server.server_close()
