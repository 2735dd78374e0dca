// The beacon's two MongoDB users, created once by the mongo image when its data volume is first
// initialised (docker-entrypoint-initdb.d, as the root user). The loader writes datasets and builds
// indexes; the API only reads, so a compromised API pod cannot change or delete data.
const beacon = db.getSiblingDB("beacon");
beacon.createUser({
  user: "beacon_loader",
  pwd: process.env.BEACON_MONGO_LOADER_PASSWORD,
  roles: [{ role: "readWrite", db: "beacon" }],
});
beacon.createUser({
  user: "beacon_api",
  pwd: process.env.BEACON_MONGO_API_PASSWORD,
  roles: [{ role: "read", db: "beacon" }],
});
