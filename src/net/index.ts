// Public exports of src/net/ (filled in by its owner).
export {};
