// I2NP message type numbers (i2np.md §3) used by the router control plane. The data plane's own ones
// (DeliveryStatus, TunnelData, TunnelGateway, Data) are in src/constants.ts.
export const I2NP_DATABASE_STORE = 1;
export const I2NP_DATABASE_LOOKUP = 2;
export const I2NP_DATABASE_SEARCH_REPLY = 3;
export const I2NP_GARLIC = 11;
export const I2NP_VARIABLE_TUNNEL_BUILD = 23;
export const I2NP_VARIABLE_TUNNEL_BUILD_REPLY = 24;
export const I2NP_SHORT_TUNNEL_BUILD = 25;
export const I2NP_OUTBOUND_TUNNEL_BUILD_REPLY = 26;
