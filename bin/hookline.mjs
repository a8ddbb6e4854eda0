#!/usr/bin/env node
// Hookline's command line. tsx lets it run its TypeScript sources and a project's
// hookline.config.ts, events/*.ts and tracking/*.ts without a build step.
import { register } from 'tsx/esm/api'

register()
await import('../src/cli/main.ts')
