import {Agent, type AgentOptions, type ClientRequestArgs} from 'node:http'
import type {Duplex} from 'node:stream'
import {inspect} from 'node:util'

/** Opens one byte stream to a remote Docker Engine socket (one per HTTP request). */
export type StreamOpener = () => Promise<Duplex>

/**
 * An HTTP agent whose "connections" are streams opened by `open` (here: SSH channels to the engine's
 * unix socket), so docker-modem speaks plain HTTP through an SSH connection that SshPool already
 * verified. No keep-alive: each request gets its own channel, closed with the response.
 */
export class StreamAgent extends Agent {
  constructor(
    private readonly open: StreamOpener,
    options: AgentOptions = {},
  ) {
    super({...options, keepAlive: false})
  }

  override createConnection(_options: ClientRequestArgs, callback?: (error: Error | null, stream: Duplex) => void): Duplex | null | undefined {
    this.open().then(
      (stream) => callback?.(null, stream),
      (error: Error) => callback?.(error, undefined as unknown as Duplex),
    )
    return undefined
  }

  /**
   * docker-modem formats every request's options, this agent among them, with `util.inspect(...,
   * {showHidden: true, depth: null})` for its debug log, even with the log off: through the open
   * channels that walks ssh2's whole connection graph, about 0.8 s of CPU per `ctl status`.
   */
  [inspect.custom](): string {
    return 'StreamAgent (Docker Engine API over SSH)'
  }
}
