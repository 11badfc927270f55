// The service's own version, read once from package.json (shown in the OpenAPI document, the
// User-Agent sent to Authing, and the build-info metric).
import packageJson from '../package.json' with { type: 'json' }

export const SERVICE_VERSION: string = packageJson.version
export const SERVICE_NAME: string = packageJson.name
