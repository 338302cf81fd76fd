// Public exports of src/loop/ (filled in by its owner).
export {};
