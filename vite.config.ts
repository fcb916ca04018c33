import { fileURLToPath } from 'node:url'
import react from '@vitejs/plugin-react'
import { defineConfig } from 'vite'

// `npm run build` writes web/dist, which `serve` hands out; `npm run dev:web` serves web/src with
// hot reload and forwards /api (including the SSE stream) to a running `npm start` (DEV_API_URL).
export default defineConfig({
  root: fileURLToPath(new URL('web', import.meta.url)),
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    chunkSizeWarningLimit: 800,
  },
  server: {
    port: 5173,
    proxy: {
      '/api': { target: process.env.DEV_API_URL ?? 'http://localhost:3000', changeOrigin: false },
    },
  },
})
