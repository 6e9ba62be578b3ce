/**
 * How ctl talks to Docker Engines. Import from here (`src/docker/index.js`), nothing else.
 *
 * Two ways, one per job, never mixed within a job:
 * - Engine API (dockerode) for reading and updating swarm state: info, nodes, services, tasks,
 *   swarm init/join/inspect, node update with its version. `engineApi(pool, node)` gives a dockerode
 *   client whose HTTP requests travel as SSH channels to the node's `docker.socket` over the SshPool
 *   connection, so host keys stay verified and nothing listens on TCP. Wrap every call in
 *   `engineCall(node, step, () => docker.x())`: failures become CtlErrors naming host and step.
 *   Join tokens and other secrets travel only in API bodies, never on a command line.
 * - docker CLI over SSH for what the CLI does best (`stack deploy` with compose files, `system
 *   dial-stdio`): `dockerCli(node, args)` builds the argv, `runDockerCli(pool, node, args)` runs it.
 *
 * Typed views of API objects (nodes, services, tasks) and swarm-level helpers live in src/swarm.
 */
export {dockerCli, dockerSocket, engineApi, engineCall, engineMessage, engineStatus, runDockerCli} from './engine.js'
