// CoordinatorStore
