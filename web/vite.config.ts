import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

/** Where `npm run dev:web` sends API calls: a Tollgate running with `npm start`. */
const tollgate = process.env.TOLLGATE_URL ?? 'http://localhost:4000';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // Mantine and the charts are one vendor chunk of about 600 kB; pages load lazily.
    chunkSizeWarningLimit: 900,
  },
  server: {
    port: Number(process.env.WEB_PORT ?? 5173),
    proxy: { '/api': tollgate, '/v1': tollgate, '/health': tollgate },
  },
});
