"""The network aggregator: one Beacon API in front of many member beacons."""
