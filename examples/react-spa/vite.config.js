import { readFileSync } from 'node:fs';
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// The app must run at http://localhost:3000 or https://localhost:3000: those
// origins are registered as the sample client's callback, logout URL and web
// origin (gatehouse dev seeds them), so another port would be refused rather
// than silently used. Given a certificate and key (scripts/sample.sh passes
// the dev CA's), it serves HTTPS, which makes it the same site as Gatehouse
// on https://localhost; a build ignores them.
const { SAMPLE_TLS_CERT: cert, SAMPLE_TLS_KEY: key } = process.env;
const https = cert && key ? { cert: readFileSync(cert), key: readFileSync(key) } : undefined;
const host = process.env.HOST || 'localhost';

export default defineConfig({
  plugins: [react()],
  server: { port: 3000, strictPort: true, host, https },
  preview: { port: 3000, strictPort: true, host, https },
});
