"""A producer that Tidings did not write: librdkafka (confluent-kafka-python)
with its default partitioner (consistent_random: CRC32 of the key), as
confluent-kafka-python, -go, node-rdkafka and kcat use it.

Reads JSON lines {"key": str | null, "value": base64} on stdin, produces each
to TOPIC on BROKERS, and prints one JSON line per record with the partition
librdkafka chose.
"""
import base64
import json
import sys

from confluent_kafka import Producer

brokers, topic = sys.argv[1], sys.argv[2]
producer = Producer({"bootstrap.servers": brokers, "enable.idempotence": True, "acks": "all"})
placed = []


def delivered(err, msg):
    if err is not None:
        raise SystemExit(f"delivery failed: {err}")
    placed.append({"key": msg.key().decode() if msg.key() is not None else None, "partition": msg.partition()})


for line in sys.stdin:
    record = json.loads(line)
    key = record["key"].encode() if record["key"] is not None else None
    producer.produce(topic, key=key, value=base64.b64decode(record["value"]), on_delivery=delivered)
    producer.poll(0)
left = producer.flush(30)
if left:
    raise SystemExit(f"{left} records not delivered")
for p in placed:
    print(json.dumps(p))
