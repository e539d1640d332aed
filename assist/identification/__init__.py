"""Active identification (主动识别): importing worker data, screening it, and working the candidate queue."""
