// The small part of autocannon's API the bench uses (the package ships no types).
declare module 'autocannon' {
  interface AutocannonRequest {
    method?: string
    path?: string
    headers?: Record<string, string>
    body?: string | Buffer
  }
  interface AutocannonOptions {
    url: string
    connections?: number
    duration?: number
    pipelining?: number
    timeout?: number
    overallRate?: number
    ignoreCoordinatedOmission?: boolean
    requests?: AutocannonRequest[]
    headers?: Record<string, string>
  }
  interface Percentiles {
    average: number
    mean: number
    stddev: number
    min: number
    max: number
    p50: number
    p90: number
    p99: number
    p99_9?: number
    p999?: number
    p97_5: number
    [key: string]: number | undefined
  }
  interface AutocannonResult {
    duration: number
    start: Date
    finish: Date
    errors: number
    timeouts: number
    non2xx: number
    mismatches: number
    resets: number
    '2xx': number
    latency: Percentiles & { totalCount: number }
    requests: Percentiles & { total: number, sent: number }
    throughput: Percentiles & { total: number }
  }
  function autocannon (options: AutocannonOptions): Promise<AutocannonResult> & { stop?: () => void }
  export default autocannon
}
