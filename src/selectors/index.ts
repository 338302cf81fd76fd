// Public exports of src/selectors/ (filled in by its owner).
export {};
