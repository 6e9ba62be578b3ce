"""AMQP for the RabbitMQ lab tests (Debian's python3-pika): publish persistent messages to a durable
quorum queue, or count a queue's messages.
  amqp.py publish HOST QUEUE N     → (re)creates the queue, prints the number published (each confirmed)
  amqp.py count HOST QUEUE         → prints the queue's message count
"""
import sys

import pika

action, host, queue = sys.argv[1], sys.argv[2], sys.argv[3]
connection = pika.BlockingConnection(pika.ConnectionParameters(host=host, port=5672, credentials=pika.PlainCredentials("guest", "guest"), connection_attempts=3, retry_delay=1))
channel = connection.channel()
if action == "publish":
    # A fresh queue: what an earlier run left in it would count twice.
    channel.queue_delete(queue=queue)
    channel.queue_declare(queue=queue, durable=True, arguments={"x-queue-type": "quorum"})
    channel.confirm_delivery()
    n = int(sys.argv[4])
    for i in range(n):
        channel.basic_publish(exchange="", routing_key=queue, body=str(i).encode(), properties=pika.BasicProperties(delivery_mode=2), mandatory=True)
    print(n)
else:
    print(channel.queue_declare(queue=queue, durable=True, passive=True, arguments={"x-queue-type": "quorum"}).method.message_count)
connection.close()
