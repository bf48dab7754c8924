import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// The app must run at http://localhost:3000: that origin is registered as the
// sample client's callback, logout URL and web origin (gatehouse dev seeds
// them), so another port would be refused rather than silently used.
export default defineConfig({
  plugins: [react()],
  server: { port: 3000, strictPort: true, host: process.env.HOST || 'localhost' },
  preview: { port: 3000, strictPort: true, host: process.env.HOST || 'localhost' },
});
