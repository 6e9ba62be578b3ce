import {z} from 'zod'

// zod compiles a parser for each object schema on its first parse (`new Function`): worth it for a
// schema parsed many times, not for the one inventory a ctl run parses. Without it, `inventory
// validate` costs about a tenth less (docs/PERFORMANCE.md). Set before any schema is built: zod reads it then.
z.config({jitless: true})

export {z}
