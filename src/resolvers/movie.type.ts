/** Output types of movies, users and recommendations. */
import { GraphQLJSONObject } from 'graphql-scalars';
import { Field, Float, ID, Int, ObjectType } from 'type-graphql';
import { PageInfo } from './page.type';
import { ModelSourceGql } from './enums';

@ObjectType({
  description:
    "A movie of the catalogue: the `/movies/*.csv` files of the `training` repo (the data set of the first start, e.g. MovieLens 100K's u.item, then upsertMovies and `reelgraph import movies`).",
})
export class Movie {
  @Field(() => ID, { description: 'Raw movie id, as in the ratings (MovieLens 100K: 1…1682).' })
  id!: string;

  @Field({ description: 'Title with the year, e.g. "Toy Story (1995)".' })
  title!: string;

  @Field(() => Int, {
    nullable: true,
    description: 'Year from the title, else from the release date.',
  })
  year!: number | null;

  @Field(() => String, {
    nullable: true,
    description: 'Release date YYYY-MM-DD; null when unknown.',
  })
  releaseDate!: string | null;

  @Field(() => [String], { description: 'Genres, e.g. ["Animation", "Children\'s", "Comedy"].' })
  genres!: string[];

  @Field(() => String, { nullable: true, description: 'IMDb URL as given by MovieLens.' })
  imdbUrl!: string | null;

  @Field(() => GraphQLJSONObject, {
    description:
      'The extra columns of the movie\'s catalogue row by name, as text (e.g. {"releaseDate": "1995-01-01", "imdbUrl": "…"} for MovieLens 100K); {} when none.',
  })
  extra!: Record<string, string>;
}

@ObjectType({ description: 'A movie and its cursor.' })
export class MovieEdge {
  @Field({ description: 'Opaque cursor: pass as `after` for the movies after this one.' })
  cursor!: string;

  @Field(() => Movie, { description: 'The movie.' })
  node!: Movie;
}

@ObjectType({ description: 'A page of movies in catalogue order (by id).' })
export class MovieConnection {
  @Field(() => [MovieEdge], { description: 'The movies of this page with their cursors.' })
  edges!: MovieEdge[];

  @Field(() => [Movie], { description: 'The movies of this page.' })
  nodes!: Movie[];

  @Field(() => PageInfo, { description: 'Whether more movies follow.' })
  pageInfo!: PageInfo;
}

@ObjectType({ description: "A rating of a user, as the serving model's trainset holds it." })
export class UserRating {
  @Field(() => ID, { description: 'Raw movie id.' })
  movieId!: string;

  @Field(() => Float, { description: "The rating, on the service's rating scale." })
  rating!: number;
}

@ObjectType({
  description:
    'A user: attributes from the catalogue (`/users/*.csv` of the `training` repo: MovieLens demographics, upsertUsers, `reelgraph import users`) and the ratings the serving model was fitted on.',
})
export class User {
  @Field(() => ID, { description: 'Raw user id.' })
  id!: string;

  @Field(() => GraphQLJSONObject, {
    description:
      'Every attribute of the user\'s catalogue row by name, as text (e.g. {"age": "24", "gender": "M", "occupation": "technician", "zip": "85711"}); {} when the catalogue has none.',
  })
  attributes!: Record<string, string>;

  @Field(() => Int, {
    nullable: true,
    description: 'The `age` attribute when it is a whole number (ml-100k u.user), else null.',
  })
  age!: number | null;

  @Field(() => String, { nullable: true, description: 'The `gender` attribute, e.g. "M" or "F".' })
  gender!: string | null;

  @Field(() => String, {
    nullable: true,
    description: 'The `occupation` attribute, e.g. "technician".',
  })
  occupation!: string | null;

  @Field(() => String, { nullable: true, description: 'The `zip` attribute, as written.' })
  zip!: string | null;

  @Field(() => Int, { description: "Number of ratings in the serving model's trainset." })
  ratingsCount!: number;

  @Field(() => ID, {
    nullable: true,
    description: 'The model version whose trainset was read; null before the first model.',
  })
  modelVersion!: string | null;

  /** All ratings; the `ratings` field pages them. */
  allRatings!: UserRating[];
}

@ObjectType({
  description:
    'A movie the user rated that contributed to a recommendation ("because you rated …").',
})
export class BecauseMovie {
  @Field(() => ID, { description: 'Raw movie id of the rated movie.' })
  movieId!: string;

  @Field(() => Float, {
    description:
      "Its contribution to the recommended movie's score: EASE's item-item weight (exact: the score is the sum of these), ItemKNN's similarity, or for iALS/BPR the cosine of the two movies' factors (nearest rated movies).",
  })
  weight!: number;

  @Field(() => Movie, { nullable: true, description: 'The catalogue entry; null when absent.' })
  movie!: Movie | null;
}

@ObjectType({ description: 'One recommended movie.' })
export class Recommendation {
  @Field(() => Int, { description: 'Rank, from 1 (best).' })
  rank!: number;

  @Field(() => ID, { description: 'Raw movie id.' })
  movieId!: string;

  @Field(() => String, {
    nullable: true,
    description: "The movie's title; null when the catalogue lacks the id.",
  })
  title!: string | null;

  @Field(() => Float, {
    description:
      "The ranking score: the ranker's own score (unbounded; see `rankedBy`), or with a rating model the estimated rating clipped to [1, 5].",
  })
  score!: number;

  @Field(() => [BecauseMovie], {
    description:
      "Up to 3 of the user's rated movies that contributed most to this movie's score, best first; empty when a rating model ranked or the user is unknown.",
  })
  because!: BecauseMovie[];

  @Field(() => Movie, {
    nullable: true,
    description: 'The catalogue entry; null when the catalogue lacks the id.',
  })
  movie!: Movie | null;
}

@ObjectType({ description: 'Top-N recommendations for one user by the serving model.' })
export class Recommendations {
  @Field(() => ID, { description: 'Raw user id.' })
  userId!: string;

  @Field(() => ID, { description: 'The model version (`train` commit) that computed them.' })
  modelVersion!: string;

  @Field(() => ModelSourceGql, {
    description:
      "FOLDED_IN when the user rated since the model version's training commit and the list was ranked from their folded-in factors (rating model) or their row of interactions (EASE, ItemKNN rankers); TRAINED otherwise.",
  })
  modelSource!: ModelSourceGql;

  @Field({
    description:
      "Whether the model knows the user (a folded-in user counts as known); if not, scores are the model's fallback estimates.",
  })
  knownUser!: boolean;

  @Field({
    description:
      'The model that ranked: a ranker of the same model version (EASE, iALS, BPR, ItemKNN, MostPopular) when the train pipeline fitted one, else the rating algorithm (e.g. SVD).',
  })
  rankedBy!: string;

  @Field(() => [Recommendation], {
    description: 'Best first; ties: catalogue order of the trainset.',
  })
  items!: Recommendation[];
}

@ObjectType({ description: 'A movie similar to another, by the serving ranker.' })
export class SimilarMovie {
  @Field(() => Int, { description: 'Rank, from 1 (most similar).' })
  rank!: number;

  @Field(() => ID, { description: 'Raw movie id.' })
  movieId!: string;

  @Field(() => Float, {
    description:
      "The ranker's item-item similarity: EASE's weight B_ij, ItemKNN's co-occurrence similarity, or the cosine of iALS/BPR item factors.",
  })
  similarity!: number;

  @Field(() => Movie, { nullable: true, description: 'The catalogue entry; null when absent.' })
  movie!: Movie | null;
}

@ObjectType({ description: 'The movies most similar to one movie.' })
export class SimilarMovies {
  @Field(() => ID, { description: 'The movie asked about.' })
  movieId!: string;

  @Field(() => ID, { description: 'The model version (`train` commit) whose ranker answered.' })
  modelVersion!: string;

  @Field({ description: 'The ranker that answered (e.g. EASE).' })
  rankedBy!: string;

  @Field(() => [SimilarMovie], { description: 'Most similar first.' })
  items!: SimilarMovie[];
}
