import {Agent, type AgentOptions, type ClientRequestArgs} from 'node:http'
import type {Duplex} from 'node:stream'

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
}
