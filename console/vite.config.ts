import { resolve } from "node:path";
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// The page is served by console/server from console/dist; `npm run console:build` writes it.
export default defineConfig({
  root: resolve(__dirname, "web"),
  base: "/",
  plugins: [react()],
  build: { outDir: resolve(__dirname, "dist"), emptyOutDir: true, chunkSizeWarningLimit: 1000 },
});
