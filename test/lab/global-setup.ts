// The lab tests' shared setup: filled in by the lab issue (brings the lab up once for all lab tests).
export default async function setup(): Promise<void> {}
