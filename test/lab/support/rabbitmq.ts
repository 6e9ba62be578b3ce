import {execa} from 'execa'
import {join} from 'node:path'
import {projectRoot} from '../../support/cli.js'

/** The lab's RabbitMQ nodes' addresses (node names are rabbit@<address>). */
export const RABBIT_ADDRESS: Record<string, string> = {h1: '198.18.0.11', h2: '198.18.0.12', h3: '198.18.0.13'}

/** rabbitmqctl on a lab node, as ctl runs it over SSH (its root home holds the cookie); not rejected on failure. */
export const rabbitmqctl = (host: string, ...args: string[]) =>
  execa(
    'nsenter',
    [
      `--net=/run/netns/ctl-lab-${host}`,
      'env',
      `HOME=/var/lib/ctl-lab/${host}/root`,
      '/usr/lib/rabbitmq/bin/rabbitmqctl',
      '--longnames',
      '-n',
      `rabbit@${RABBIT_ADDRESS[host]}`,
      ...args,
    ],
    {reject: false},
  )

/** test/lab/support/amqp.py with Debian's python3 (pika): `publish HOST QUEUE N` or `count HOST QUEUE`; its printed number. */
export async function amqp(...args: string[]): Promise<number> {
  const r = await execa('/usr/bin/python3', [join(projectRoot, 'test', 'lab', 'support', 'amqp.py'), ...args], {reject: false, timeout: 60_000})
  if (r.exitCode !== 0) throw new Error(`amqp.py ${args.join(' ')}: ${r.stderr}`)
  return Number(String(r.stdout).trim())
}
