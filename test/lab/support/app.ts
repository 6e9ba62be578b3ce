import {execa} from 'execa'
import {expect} from 'vitest'
import {json, runCtl} from '../../support/cli.js'
import {docker} from './swarm.js'

/** Helpers of the deploy lab tests: the swarm formed, the app stack running a known version. */

/** The lab's swarm as lab.yml says (other lab tests may have re-formed it): idempotent. */
export async function ensureSwarm(): Promise<void> {
  await resetStuckAppIfSwarm()
  const bootstrap = await runCtl(['node', 'bootstrap', 'lab', '--yes', '--json'])
  expect(bootstrap.exitCode, bootstrap.stderr).toBe(0)
  const labels = await runCtl(['node', 'label', 'lab', '--yes'])
  expect(labels.exitCode, labels.stderr).toBe(0)
}

async function resetStuckAppIfSwarm(): Promise<void> {
  const info = await docker('h1', ['info', '--format', '{{.Swarm.ControlAvailable}}'], {reject: false})
  if (info.stdout === 'true') await resetStuckApp()
}

/**
 * Removes the app stack when an earlier run left it half-rolled (paused update or rollback, or more
 * running tasks than replicas holding every host port): tests start from a clean service.
 */
export async function resetStuckApp(): Promise<void> {
  const inspect = await docker('h1', ['service', 'inspect', '--format', '{{json .UpdateStatus}} {{.Spec.Mode.Replicated.Replicas}}', 'app_app'], {
    reject: false,
  })
  if (inspect.exitCode !== 0) return
  const cut = inspect.stdout.lastIndexOf(' ')
  const [status, replicas] = [inspect.stdout.slice(0, cut), inspect.stdout.slice(cut + 1)]
  const state = status && status !== 'null' ? (JSON.parse(status) as {State?: string}).State : undefined
  const running = (await appTasks()).filter((t) => t.desired === 'running').length
  if (!state?.endsWith('paused') && running <= Number(replicas)) return
  await docker('h1', ['stack', 'rm', 'app'])
  for (let i = 0; i < 60; i++) {
    const left = await Promise.all(['h1', 'h2', 'h3'].map((h) => docker(h, ['ps', '-q', '--filter', 'label=com.docker.stack.namespace=app'])))
    if (left.every((r) => r.stdout === '')) return
    await new Promise((resolve) => setTimeout(resolve, 1000))
  }
}

/** Deploys app=<tag> (created or updated, or already there) and checks it worked. */
export async function deployApp(tag: string, env: Record<string, string> = {}): Promise<any> {
  const run = await runCtl(['deploy', 'lab', '--image', `app=${tag}`, '--skip-preflight', '--json'], {env})
  expect(run.exitCode, `${run.stdout}\n${run.stderr}`).toBe(0)
  return appJson(run)
}

export interface AppTask {
  id: string
  slot: number
  image: string
  desired: string
  state: string
}

/** Every task of app_app, from the manager's engine directly (not through ctl). */
export async function appTasks(): Promise<AppTask[]> {
  const ids = (await docker('h1', ['service', 'ps', '-q', '--no-trunc', 'app_app'])).stdout.split('\n').filter(Boolean)
  const raw = JSON.parse((await docker('h1', ['inspect', ...ids])).stdout) as any[]
  return raw.map((t) => ({id: t.ID, slot: t.Slot, image: shortImage(t.Spec.ContainerSpec.Image), desired: t.DesiredState, state: t.Status.State}))
}

export async function appImage(): Promise<string> {
  return shortImage((await docker('h1', ['service', 'inspect', '--format', '{{.Spec.TaskTemplate.ContainerSpec.Image}}', 'app_app'])).stdout)
}

/**
 * App images as these tests name them, `ctl-lab/app:v2`, wherever they appear in a text: ctl deploys
 * `198.18.0.1:5000/ctl-lab/app:v2@sha256:…` (from the lab registry, pinned to the digest it resolved);
 * which bits a tag was is the registry test's business.
 */
export function shortImage(text: string): string {
  return text.replace(/198\.18\.0\.1:5000\/(ctl-lab\/app(?::[\w.-]+)?)(?:@sha256:[0-9a-f]{64})?/g, '$1')
}

export function shortImages(value: unknown): any {
  if (typeof value === 'string') return shortImage(value)
  if (Array.isArray(value)) return value.map(shortImages)
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, shortImages(v)]))
  return value
}

/** The JSON a ctl command printed, its lab images shortened as `shortImage` does. */
export function appJson(result: Parameters<typeof json>[0]): any {
  return shortImages(json(result))
}

/** /health of every lab host's published app port: the answers of the hosts that run a task. */
export async function hostHealth(port = 8080): Promise<{host: string; status: number; version?: string}[]> {
  const out = []
  for (const i of [1, 2, 3]) {
    const r = await execa('curl', ['-s', '-m', '2', '-w', '\n%{http_code}', `http://198.18.0.1${i}:${port}/health`], {reject: false})
    const [body, code] = String(r.stdout).split('\n')
    if (Number(code) > 0) out.push({host: `h${i}`, status: Number(code), version: body ? (JSON.parse(body) as {version?: string}).version : undefined})
  }
  return out
}

/**
 * The hosts' answers once the replaced containers are gone: a container of a task Swarm already shut
 * down (e.g. one restarted from a paused bad spec) may answer for a few seconds after a deploy ends,
 * and a task Swarm's healthcheck is replacing (e.g. after `lab break app-unhealthy`, `lab up` clears
 * the ones still there) is missing or answers 503 for a few seconds. Settled: `replicas` answers, all
 * 200, or what answers at the deadline.
 */
export async function settledHealth(replicas = 2, seconds = 30): Promise<{host: string; status: number; version?: string}[]> {
  const deadline = Date.now() + seconds * 1000
  for (;;) {
    const answers = await hostHealth()
    if ((answers.length === replicas && answers.every((a) => a.status === 200)) || Date.now() > deadline) return answers
    await new Promise((resolve) => setTimeout(resolve, 500))
  }
}
