// The vendors, as the engine knows them: every vendor list and every per-vendor choice in
// the console comes from the wasm engine's `vendors()` export (engine::vendors, each fact
// read from the vendor's home in engine/src/vendors/), so the page cannot disagree with
// what the edge and the relay serve. Loaded once, before any page that imports it renders.
//   VENDORS       every vendor: {vendor, display_name, configured, redirect_only, rps,
//                 syntax, content_type, models, config_file, firmware_extensions}
//   CONFIGURED    the names of the vendors whose configs are rendered here
//   vendorInfo(v) one vendor's entry (undefined for a name the engine does not know)
//   displayName(v) its name as people write it
//   modelInfo(v, m) the model table's row of vendor v's model m (case-insensitive), if known

import init, { vendors } from "../pkg/engine_wasm.js";

await init();

export const VENDORS = JSON.parse(vendors());
export const CONFIGURED = VENDORS.filter((v) => v.configured).map((v) => v.vendor);
const BY_NAME = new Map(VENDORS.map((v) => [v.vendor, v]));
export const vendorInfo = (v) => BY_NAME.get(v);
export const displayName = (v) => BY_NAME.get(v)?.display_name ?? v;
export const modelInfo = (v, m) =>
  BY_NAME.get(v)?.model_table?.find((r) => r.name.toLowerCase() === String(m ?? "").trim().toLowerCase());
