/**
 * Colour for text meant for a terminal: on when the stream is a TTY (or FORCE_COLOR asks for it),
 * never with NO_COLOR (https://no-color.org; `--no-color` sets it, see bin/run.js).
 */

export type Colour = 'red' | 'yellow' | 'green' | 'magenta' | 'bold' | 'dim'

const CODES: Record<Colour, [number, number]> = {red: [31, 39], yellow: [33, 39], green: [32, 39], magenta: [35, 39], bold: [1, 22], dim: [2, 22]}

export function colourWanted(stream: {isTTY?: boolean}, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0' && env.FORCE_COLOR !== 'false') return true
  return Boolean(stream.isTTY) && env.TERM !== 'dumb'
}

/** A painter: `paint('red', text)` wraps the text in colour codes when colour is on, else returns it as is. */
export function painter(enabled: boolean): (colour: Colour, text: string) => string {
  return (colour, text) => (enabled ? `\u001B[${CODES[colour][0]}m${text}\u001B[${CODES[colour][1]}m` : text)
}
